"""Tiering speed (issue 3): the whole ladder in memory, one enterprise's explanation, the registry to stored runs.

    .venv/bin/python benchmarks/bench_tiering.py [--rows 1000000] [--enterprises 100000] [--databases sqlite,postgres]
    .venv/bin/python benchmarks/bench_tiering.py --skip-db      # the two in-memory figures only

1. Whole ladder: `rules.evaluate` (every qualification, every condition, score and gap column) on a synthetic
   situation frame of N rows built in memory; median of 5, in a child process whose peak resident memory
   (VmHWM) is reported. Goal ≤ 2 s and ≤ 2 GiB for 1,000,000 rows.
2. One enterprise: `rules.assess` (a one-row frame through the same evaluate, then every explanation in
   Chinese) on 200 different synthetic enterprises; median and p95. Goal ≤ 20 ms.
3. Registry to stored assessments: a database filled by `kechuang demo --enterprises N` (fixed seed), then
   `services.run_now` (situation frame from the registry, evaluate, write results and situations). Goal ≤ 30 s
   for 100,000 enterprises.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
ON = dt.date(2026, 6, 30)
DATABASES = {
    "sqlite": "sqlite:////tmp/kechuang-bench-tiering.sqlite3",
    "postgres": "postgres://postgres@127.0.0.1:5432/kechuang_bench_tiering",
}


def synthetic_frame(rows: int):
    """A deterministic population with every kind of value: most figures known, some missing, sizes from
    micro to large, growth up and down, IP from none to many, held titles and manual inputs at random."""
    import polars as pl

    from kechuang.rules import inputs

    i = pl.int_range(0, rows, eager=True, dtype=pl.Int64)

    def h(salt: int) -> pl.Series:  # a cheap deterministic hash in [0, 1)
        return ((i * 2654435761 + salt * 40503) % 1_000_003).cast(pl.Float64) / 1_000_003

    sales = (h(1) ** 3 * 800_000_000 + 500_000).round(0)
    growth = 0.6 + h(2) * 0.9

    def money(series: pl.Series, missing: float, salt: int) -> pl.Series:
        return pl.select(pl.when(h(salt) < missing).then(None).otherwise(series)).to_series()

    employees = (h(3) * 600 + 5).round(0)
    columns = {
        "enterprise_id": i.cast(pl.String),
        "registration_date": pl.select(
            pl.lit(dt.date(2000, 1, 1)) + pl.duration(days=(h(4) * 9500).cast(pl.Int64))
        ).to_series(),
        "employees_lag1": employees,
        "tech_staff_lag1": (employees * h(5) * 0.4).round(0),
        "rd_staff_lag1": (employees * h(5) * 0.3).round(0),
        "total_assets_lag1": sales * (0.5 + h(6)),
        "cost_expense_total_lag1": sales * 0.8,
        "hitech_revenue_lag1": sales * h(7),
        "total_income_lag1": sales * 1.01,
        "net_profit_lag1": sales * (h(8) * 0.3 - 0.1),
        "valuation_lag1": money(sales * (h(9) * 80), 0.9, 10),
        "equity_financing_total": money(sales * h(11), 0.7, 12),
        "ip_class_i_count": (h(13) * 6).cast(pl.Int64),
        "ip_class_i_own_rd_count": (h(13) * 4).cast(pl.Int64),
        "ip_class_ii_count": (h(14) * 12).cast(pl.Int64),
        "ip_class_ii_unused_count": (h(14) * 8).cast(pl.Int64),
        "ip_class_ii_mature_count": (h(14) * 6).cast(pl.Int64),
        "ip_has_own_rd": h(15) < 0.7,
        "hnte_valid": h(16) < 0.3,
        "tech_sme_valid": h(17) < 0.4,
        "srdi_valid": h(18) < 0.1,
        "is_listed": h(19) < 0.02,
        "has_private_equity": h(20) < 0.2,
        "in_shanghai": pl.Series([True] * rows),
        "resident_in_china": pl.Series([True] * rows),
        "niche_market_years": (h(21) * 12).round(0),
        "market_share": money(h(22) * 0.3, 0.6, 23),
        "srdi_dev_score": money(h(24) * 100, 0.7, 25),
        "rd_institution_level": pl.select(
            pl.when(h(26) < 0.05).then(pl.lit("national")).when(h(26) < 0.2).then(pl.lit("provincial")).otherwise(pl.lit("none"))
        ).to_series(),
    }
    for lag in (1, 2, 3, 4):
        year_sales = sales / growth ** (lag - 1)
        columns[f"sales_revenue_lag{lag}"] = money(year_sales, 0.05 * lag, 30 + lag)
        if lag <= 3:
            columns[f"main_business_revenue_lag{lag}"] = year_sales * (0.5 + h(40) * 0.5)
            columns[f"rd_expense_hnte_lag{lag}"] = year_sales * h(41) * 0.1
            columns[f"rd_expense_hnte_domestic_lag{lag}"] = year_sales * h(41) * 0.08
            columns[f"rd_expense_lag{lag}"] = year_sales * h(41) * 0.1
            columns[f"rd_expense_deduction_lag{lag}"] = year_sales * h(41) * 0.09
            columns[f"net_assets_lag{lag}"] = year_sales * (h(42) - 0.1)
            columns[f"equity_financing_lag{lag}"] = money(year_sales * h(43), 0.8, 44 + lag)
    frame = pl.DataFrame({k: v for k, v in columns.items() if k in inputs.SCHEMA})
    return inputs.conform(frame)


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def whole_ladder(rows: int) -> dict:
    """Runs in a child process (so its peak memory is its own): 5 evaluations of the whole ladder."""
    from kechuang import rules

    frame = synthetic_frame(rows)
    times, width = [], 0
    for _ in range(5):
        started = time.perf_counter()
        result = rules.evaluate(frame, ON)
        times.append(time.perf_counter() - started)
        width = result.width
        del result
    met = {area: None for area in rules.QUALIFICATIONS}
    result = rules.evaluate(frame, ON)
    for area, column in rules.RESULT_COLUMN.items():
        met[area] = int((result[column] == "met").sum())
    return {
        "rows": rows,
        "areas": len(rules.QUALIFICATIONS),
        "columns": width,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "peak_rss_mib": peak_rss_mib(),
        "met": met,
    }


def one_enterprise(samples: int = 200) -> dict:
    from kechuang import rules

    frame = synthetic_frame(samples)
    rows = frame.to_dicts()
    rules.assess(rows[0], ON)  # warm-up: imports, parameter files
    total, explain = [], []
    for row in rows:
        started = time.perf_counter()
        report = rules.assess(row, ON)
        total.append(time.perf_counter() - started)
        started = time.perf_counter()
        rules.explain(report.row, ON)
        explain.append(time.perf_counter() - started)
    total.sort()
    return {
        "samples": samples,
        "median_ms": statistics.median(total) * 1000,
        "p95_ms": total[int(len(total) * 0.95) - 1] * 1000,
        "explain_median_ms": statistics.median(explain) * 1000,
        "explanations": sum(len(items) for items in report.explanations.values()),
    }


def prepare(url: str, enterprises: int) -> float:
    env = {**os.environ, "DATABASE_URL": url}
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    else:
        name = url.rsplit("/", 1)[1]
        for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", sql], check=True)
    kechuang = [PYTHON, "-m", "kechuang.cli"]
    subprocess.run([*kechuang, "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    started = time.perf_counter()
    subprocess.run([*kechuang, "demo", "--enterprises", str(enterprises)], env=env, check=True, cwd=ROOT)
    return time.perf_counter() - started


def registry_run(url: str) -> dict:
    """In a child process with DATABASE_URL set: one run of the whole registry, timed by stage."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kechuang.settings")
    import django

    django.setup()
    from kechuang.enterprises.models import Enterprise
    from kechuang.tiering import services
    from kechuang.tiering.models import AssessedSituation, Assessment

    stages: list[tuple[str, float]] = []
    real = services._progress

    def record(run, *, stage, processed):
        stages.append((stage, time.perf_counter()))
        real(run, stage=stage, processed=processed)

    services._progress = record
    started = time.perf_counter()
    run = services.run_now(on=ON)
    elapsed = time.perf_counter() - started
    assert run.status == "done", run.message
    marks = {}
    for stage, at in stages:
        marks.setdefault(stage, at)
    read = marks["逐项评价"] - marks["读取企业数据"]
    return {
        "enterprises": Enterprise.objects.count(),
        "results": Assessment.objects.filter(run=run).count(),
        "situations": AssessedSituation.objects.filter(run=run).count(),
        "read_s": read,
        "total_s": elapsed,
    }


def child(kind: str, arg: str) -> dict:
    output = subprocess.run(
        [PYTHON, __file__, "--child", kind, arg], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--skip-db", action="store_true")
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        kind, arg = args.child
        result = whole_ladder(int(arg)) if kind == "ladder" else registry_run(arg)
        print(json.dumps(result, ensure_ascii=False))
        return

    ladder = child("ladder", str(args.rows))
    print(f"## Whole ladder in memory ({ladder['rows']:,} rows, {ladder['areas']} qualifications, {ladder['columns']} columns)")
    print(f"median {ladder['median_s']:.2f} s (min {ladder['min_s']:.2f}, max {ladder['max_s']:.2f}); peak RSS {ladder['peak_rss_mib']:.0f} MiB")
    print("met per qualification:", ladder["met"])
    one = one_enterprise()
    print(f"## One enterprise ({one['samples']} enterprises, {one['explanations']} explanations each)")
    print(f"median {one['median_ms']:.1f} ms, p95 {one['p95_ms']:.1f} ms (of which explanations {one['explain_median_ms']:.1f} ms)")
    if args.skip_db:
        return
    for name in args.databases.split(","):
        url = DATABASES[name]
        loaded = prepare(url, args.enterprises)
        result = child("run", url)
        print(f"## Registry to stored run, {name} ({result['enterprises']:,} enterprises; demo loaded in {loaded:.0f} s)")
        print(
            f"total {result['total_s']:.1f} s (reading the registry {result['read_s']:.1f} s); "
            f"{result['results']:,} results and {result['situations']:,} situations written"
        )


if __name__ == "__main__":
    main()
