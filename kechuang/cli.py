"""The `kechuang` command: Django's management commands under the project's own name.

`kechuang demo` loads the demo data, `kechuang runserver` serves, `kechuang help` lists the rest.
"""

import os
import sys


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kechuang.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "kechuang"
    execute_from_command_line(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
