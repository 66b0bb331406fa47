"""Benchmark: importing the registry from .xlsx — 100,000 enterprises, then 300,000 yearly rows.

Runs the production path on a fresh SQLite file database with the production settings (DEBUG off,
the database task backend): the upload's service call (checks the file, stores the job, queues it,
as the upload view does), then the worker (`db_worker --batch`) imports it. Each file is timed
from the service call to the job being DONE, and the two phases are shown.

The input files are generated with a fixed seed by openpyxl in write-only mode and kept in
--data-dir, so a second run skips the (slow) generation.

    .venv/bin/python benchmarks/bench_import.py
    .venv/bin/python benchmarks/bench_import.py --enterprises 10000   # a quick run
    .venv/bin/python benchmarks/bench_import.py --compare-orm         # also time bulk_create_with_history
    .venv/bin/python benchmarks/bench_import.py --export              # also time the export of it all

--export then adds one IP asset to every enterprise and a qualification to every second one
(bulk_create, outside the timings), and exports the whole registry as the export page does for a
list over EXPORT_SYNC_MAX_ENTERPRISES: the service call queues an ExportJob, the worker writes
the workbook (XlsxWriter) into it. For comparison, the same sheets are then written by openpyxl's
write-only mode (excel.write_xlsx), the writer the export used before.
"""

import argparse
import os
import platform
import random
import resource
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = 20240601
YEARS = (2022, 2023, 2024)
PARKS = [f"松江测试园区{i:02d}" for i in range(1, 11)]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def code(i: int) -> str:
    from kechuang.core.uscc import make_code

    return make_code(f"91310117MA{i:07d}")


def generate_enterprises(path: Path, count: int) -> None:
    from openpyxl import Workbook

    from kechuang.enterprises import choices
    from kechuang.enterprises.importing import SPECS

    rng = random.Random(SEED)
    industries = [label for _, label in choices.Industry.choices]
    fields = [label for _, label in choices.HitechField.choices]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("企业")
    sheet.append([c.header for c in SPECS["enterprises"].columns])
    start = date(1995, 1, 1)
    for i in range(count):
        sheet.append(
            [
                code(i),
                f"上海测试{i}科技有限公司",
                f"测试{i}",
                start + timedelta(days=rng.randrange(10000)),
                rng.choice(PARKS),
                rng.choice(industries),
                rng.choice(fields),
                "软件开发、技术服务",
                f"上海市松江区测试路{rng.randrange(1, 2000)}号",
                f"法人{i % 1000}",
                f"138{rng.randrange(10**8):08d}",
                "存续",
                "否",
            ]
        )
    workbook.save(path)


def generate_years(path: Path, count: int) -> None:
    from openpyxl import Workbook

    from kechuang.enterprises.importing import SPECS

    rng = random.Random(SEED + 1)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("年度数据")
    sheet.append([c.header for c in SPECS["years"].columns])

    def wan(low: float, high: float) -> float:
        return round(rng.uniform(low, high), 2)

    for i in range(count):
        uscc, name = code(i), f"上海测试{i}科技有限公司"
        for year in YEARS:
            employees = rng.randrange(10, 800)
            sales = wan(100, 50000)
            rd = wan(10, sales * 0.2)
            profit = wan(-500, sales * 0.2)
            sheet.append(
                [
                    uscc,
                    name,
                    year,
                    employees,
                    rng.randrange(1, employees + 1),
                    rng.randrange(0, employees + 1),
                    sales,
                    round(sales * 0.9, 2),
                    round(sales * 1.02, 2),
                    round(sales * 0.7, 2),
                    rd,
                    round(rd * 0.95, 2),
                    round(rd * 0.9, 2),
                    round(sales * 0.8, 2),
                    wan(sales, sales * 3),
                    wan(-100, sales * 2),
                    profit,
                    round(profit * 0.75, 2),
                    wan(0, sales * 0.1),
                    wan(0, sales * 0.3),
                    wan(0, 5000),
                    wan(0, 500000),
                ]
            )
    workbook.save(path)


def setup_django(database: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["DEBUG"] = "False"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kechuang.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def officer():
    from django.contrib.auth.models import Group, User

    from kechuang.core import roles
    from kechuang.enterprises.models import Park

    roles.roles_sync()
    for name in PARKS:
        Park.objects.create(name=name, kind="sub_park")
    user = User.objects.create_user("bench-officer")
    user.groups.add(Group.objects.get(name=roles.OFFICER.name))
    return user


def timed_import(user, kind: str, path: Path) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    from kechuang.enterprises.importing import import_job_create

    content = path.read_bytes()
    started = time.perf_counter()
    job = import_job_create(user=user, kind=kind, upload=SimpleUploadedFile(path.name, content), mode="all")
    queued = time.perf_counter()
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    done = time.perf_counter()
    job.refresh_from_db()
    if job.status != "done" or job.processed_rows != job.total_rows:
        raise SystemExit(f"{kind}: job ended {job.status}: {job.message} {job.errors[:3]}")
    return {
        "rows": job.total_rows,
        "created": job.created_count,
        "request": queued - started,
        "worker": done - queued,
        "total": done - started,
        "size": len(content),
    }


def compare_orm(user, count: int) -> dict:
    """bulk_create_with_history on the same numbers of rows, for comparison (in a transaction that
    is rolled back): what the import would cost through Django's bulk_create."""
    from decimal import Decimal

    from django.db import transaction
    from simple_history.utils import bulk_create_with_history

    from kechuang.enterprises.figures import FIGURES
    from kechuang.enterprises.models import Enterprise, EnterpriseYear

    rng = random.Random(SEED)
    enterprises = [Enterprise(uscc=code(count + i), name=f"对照{i}") for i in range(count)]
    figures = {f.name: Decimal(rng.randrange(1, 10**6)) for f in FIGURES if not f.is_money}
    figures["employees"] = Decimal(10**6)
    figures |= {f.name: Decimal(rng.randrange(10**9)) / 100 for f in FIGURES if f.is_money}
    figures["main_business_revenue"] = figures["sales_revenue"]
    figures["rd_expense_hnte_domestic"] = figures["rd_expense_hnte"]
    results = {}

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            started = time.perf_counter()
            bulk_create_with_history(enterprises, Enterprise, batch_size=2000, default_user=user)
            results["enterprises"] = time.perf_counter() - started
            years = [EnterpriseYear(enterprise=e, year=y, **figures) for e in enterprises for y in YEARS]
            started = time.perf_counter()
            bulk_create_with_history(years, EnterpriseYear, batch_size=2000, default_user=user)
            results["years"] = time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    return results


def add_ip_and_qualifications() -> tuple[int, int]:
    """One IP asset per enterprise and a qualification for every second one, so that all four
    sheets of the export have rows."""
    from kechuang.enterprises.models import VALIDITY_YEARS, Enterprise, IPAsset, Qualification, default_expiry

    rng = random.Random(SEED + 2)
    ids = list(Enterprise.objects.order_by("pk").values_list("pk", flat=True))
    assets, qualifications = [], []
    for n, pk in enumerate(ids):
        applied = date(2015, 1, 1) + timedelta(days=rng.randrange(3000))
        assets.append(
            IPAsset(
                enterprise_id=pk,
                ip_type="invention" if n % 3 == 0 else "software",
                number=f"ZL{2015 + n % 9}1{n:07d}.{n % 10}",
                title=f"一种测试方法及装置{n}",
                application_date=applied,
                grant_date=applied + timedelta(days=rng.randrange(200, 900)),
            )
        )
        if n % 2 == 0:
            kind = "hnte" if n % 4 == 0 else "tech_sme"
            issued = date(2021, 1, 1) + timedelta(days=rng.randrange(1200))
            qualifications.append(
                Qualification(
                    enterprise_id=pk,
                    kind=kind,
                    level="national",
                    certificate_no=f"GR{n:08d}",
                    issuer="上海市科学技术委员会",
                    issue_date=issued,
                    expiry_date=default_expiry(kind, issued) if kind in VALIDITY_YEARS else None,
                )
            )
    IPAsset.objects.bulk_create(assets, batch_size=2000)
    Qualification.objects.bulk_create(qualifications, batch_size=2000)
    return len(assets), len(qualifications)


def timed_export(user) -> dict:
    """The whole registry through the export page's background path, timed from the service call
    to the job being DONE."""
    from django.core.management import call_command

    from kechuang.core import excel
    from kechuang.enterprises import exporting, selectors
    from kechuang.enterprises.models import Enterprise

    filters = selectors.RegistryFilters()
    started = time.perf_counter()
    total = selectors.enterprise_list(user=user, filters=filters).count()  # what the view does
    job = exporting.export_job_create(user=user, filters=filters, total_enterprises=total)
    queued = time.perf_counter()
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    done = time.perf_counter()
    job.refresh_from_db()
    if job.status != "done" or job.processed_rows != job.total_rows:
        raise SystemExit(f"export: job ended {job.status}: {job.message}")
    content = bytes(job.content)
    header, count = excel.read_shape(content, "export.xlsx", "企业")
    if count != Enterprise.objects.count():
        raise SystemExit(f"export: {count} enterprises in the file")
    started_openpyxl = time.perf_counter()
    before = excel.write_xlsx(exporting.registry_sheets(Enterprise.objects.all(), user=user))
    return {
        "enterprises": job.total_enterprises,
        "rows": job.total_rows,
        "request": queued - started,
        "worker": done - queued,
        "total": done - started,
        "size": len(content),
        "openpyxl": time.perf_counter() - started_openpyxl,
        "openpyxl_size": len(before),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--data-dir", default=os.path.join(tempfile.gettempdir(), "kechuang-bench"))
    parser.add_argument(
        "--compare-orm", action="store_true", help="also time simple_history's bulk_create_with_history"
    )
    parser.add_argument(
        "--export", action="store_true", help="also time exporting all of it through the export job"
    )
    args = parser.parse_args()

    data = Path(args.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    files = {
        "enterprises": data / f"enterprises-{args.enterprises}-{SEED}.xlsx",
        "years": data / f"years-{args.enterprises * len(YEARS)}-{SEED}.xlsx",
    }
    sys.path.insert(0, str(ROOT))
    workdir = Path(tempfile.mkdtemp(prefix="kechuang-bench-"))
    try:
        setup_django(workdir / "bench.sqlite3")
        for kind, generate in (("enterprises", generate_enterprises), ("years", generate_years)):
            if not files[kind].exists():
                started = time.perf_counter()
                generate(files[kind], args.enterprises)
                print(f"generated {files[kind]} in {time.perf_counter() - started:.1f} s")
        user = officer()
        print(f"machine: {os.cpu_count()} CPUs ({cpu_model()}), Python {platform.python_version()}")
        from django.db import connection

        print(
            f"database: SQLite {connection.Database.sqlite_version}, fresh file {workdir / 'bench.sqlite3'}"
        )
        total = 0.0
        for kind in ("enterprises", "years"):
            r = timed_import(user, kind, files[kind])
            total += r["total"]
            print(
                f"{kind:12} {r['rows']:>8,} rows ({r['size'] / 1024 / 1024:.1f} MB): {r['total']:6.1f} s"
                f"  (upload request {r['request']:.1f} s + worker {r['worker']:.1f} s; {r['rows'] / r['total']:,.0f} rows/s)"
            )
        print(f"{'both':12} {total:28.1f} s")
        from kechuang.enterprises.models import Enterprise, EnterpriseYear

        print(
            f"stored: {Enterprise.objects.count():,} enterprises ({Enterprise.history.count():,} history records), "
            f"{EnterpriseYear.objects.count():,} years ({EnterpriseYear.history.count():,} history records)"
        )
        print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        if args.export:
            assets, qualifications = add_ip_and_qualifications()
            print(f"added for the export: {assets:,} IP assets, {qualifications:,} qualifications")
            r = timed_export(user)
            print(
                f"export of all of it: {r['enterprises']:,} enterprises, {r['rows']:,} rows in 4 sheets: "
                f"{r['total']:.1f} s (request {r['request']:.1f} s + worker {r['worker']:.1f} s; "
                f"{r['size'] / 1024 / 1024:.1f} MB .xlsx)"
            )
            print(
                f"for comparison, the same sheets by openpyxl write-only (the writer before): "
                f"{r['openpyxl']:.1f} s ({r['openpyxl_size'] / 1024 / 1024:.1f} MB)"
            )
        if args.compare_orm:
            r = compare_orm(user, args.enterprises)
            print(
                f"for comparison, bulk_create_with_history alone: {args.enterprises:,} enterprises {r['enterprises']:.1f} s, "
                f"{args.enterprises * len(YEARS):,} years {r['years']:.1f} s"
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
