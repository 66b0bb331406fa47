import pytest
from django.db import connection

from kechuang.core.db import analyze
from kechuang.core.uscc import make_code
from kechuang.enterprises.models import Enterprise


@pytest.mark.django_db
def test_analyze_gives_the_planner_statistics_of_the_loaded_table():
    Enterprise.objects.bulk_create(Enterprise(uscc=make_code(f"91310117MA1T{i:05d}"), name=f"企业{i}") for i in range(50))
    analyze(("enterprises_enterprise",))
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # One row per index; a stat starts with the table's row count.
            cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = 'enterprises_enterprise'")
            stats = [row[0] for row in cursor.fetchall()]
            assert stats and all(stat.split()[0] == "50" for stat in stats)
        else:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'enterprises_enterprise'")
            assert cursor.fetchone()[0] == 50
