"""`kechuang demo_accounts`: one demo account per role (kechuang/enterprises/demo.py)."""

import unicodedata

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kechuang.enterprises import demo


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(_width(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [line, "| " + " | ".join(_pad(h, w) for h, w in zip(headers, widths, strict=True)) + " |", line]
    out += ["| " + " | ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows]
    return "\n".join([*out, line])


class Command(BaseCommand):
    help = "创建（或重置）每个角色一个示例账号，密码统一为公开的演示密码；仅供演示，切勿用于生产环境。"

    def add_arguments(self, parser):
        parser.add_argument("--print", action="store_true", dest="print_table", help="打印账号表：登录地址、用户名、密码、角色、可见范围")
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="平台地址（默认 %(default)s）")
        parser.add_argument("--force", action="store_true", help="DEBUG=False 时也创建（示例账号的密码是公开的）")

    def handle(self, *args, print_table, url, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError("DEBUG=False（生产环境）：示例账号的密码是公开的，拒绝创建。确需创建请加 --force。")
        try:
            rows = demo.ensure_demo_accounts()
        except demo.DemoAccountError as error:
            raise CommandError(str(error)) from error
        created = sum(r.created for r in rows)
        self.stdout.write(f"示例账号：新建 {created} 个，已有 {len(rows) - created} 个（已重置密码、角色和归属）。")
        if not print_table:
            return
        base = url.rstrip("/") + "/"
        provider = demo.provider_account_row()
        shown = [*rows, provider] if provider else rows
        body = [[r.account.role.name, r.account.username, demo.DEMO_PASSWORD, r.sees] for r in shown]
        self.stdout.write("")
        self.stdout.write(
            f"打开 {base}accounts/login/ ，用下表任一账号登录，登录后进入本角色的首页；"
            f"科委业务人员还可进入管理后台 {base}admin/"
        )
        self.stdout.write(table(["角色", "用户名", "密码", "能看到什么、能做什么"], body))
        if provider is None:
            self.stdout.write(
                f"服务机构（创新券）示例账号 {demo.PROVIDER_ACCOUNT.username} 由 kechuang demo_vouchers 创建"
                "（须先运行本命令），密码相同。"
            )
        self.stdout.write("以上账号和密码仅供演示，是公开的，切勿在生产环境使用。企业数据均为合成的示例数据。")
