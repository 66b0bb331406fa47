"""Tiering speed (issue 3): the whole ladder in memory, one enterprise's explanation, the registry to stored runs.

    .venv/bin/python benchmarks/bench_tiering.py [--rows 1000000] [--enterprises 100000] [--databases sqlite,postgres]
    .venv/bin/python benchmarks/bench_tiering.py --skip-db      # the two in-memory figures only
    .venv/bin/python benchmarks/bench_tiering.py --skip-memory  # the registry runs and pages only

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
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import demo_database  # noqa: E402

sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
ON = dt.date(2026, 6, 30)
DATABASES = {
    "sqlite": "sqlite:////tmp/kechuang-bench-tiering.sqlite3",
    "postgres": "postgres://postgres@127.0.0.1:5432/kechuang_bench_tiering",
}


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def synthetic_frame(rows: int):
    from kechuang.rules.synthetic import population

    return population(rows)


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
        "pages": pages(),
    }


def pages() -> dict[str, float]:
    """Median time of the tiering pages over the stored run, as an officer (Django test client, 5 requests)."""
    from django.contrib.auth.models import User
    from django.test import Client

    from kechuang.core.roles import OFFICER

    officer = User.objects.filter(groups__name=OFFICER.name).first()
    client = Client()
    client.force_login(officer)
    timings = {}
    for label, url in (
        ("梯度页", "/tiering/"),
        ("高企培育库第1页", "/tiering/pools/hnte-cultivation/"),
        ("科小候选第1页", "/tiering/pools/tech-sme-candidates/"),
        ("企业梯度评估（实时）", "/tiering/enterprises/1/"),
    ):
        times = []
        for _ in range(5):
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
        timings[label] = statistics.median(times)
    return timings


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
    parser.add_argument("--skip-memory", action="store_true", help="only the registry-to-stored-run part")
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        kind, arg = args.child
        result = whole_ladder(int(arg)) if kind == "ladder" else registry_run(arg)
        print(json.dumps(result, ensure_ascii=False))
        return

    if args.skip_memory:
        return registry_part(args)
    ladder = child("ladder", str(args.rows))
    print(
        f"## Whole ladder in memory ({ladder['rows']:,} rows, {ladder['areas']} qualifications, {ladder['columns']} columns)"
    )
    print(
        f"median {ladder['median_s']:.2f} s (min {ladder['min_s']:.2f}, max {ladder['max_s']:.2f}); peak RSS {ladder['peak_rss_mib']:.0f} MiB"
    )
    print("met per qualification:", ladder["met"])
    one = one_enterprise()
    print(f"## One enterprise ({one['samples']} enterprises, {one['explanations']} explanations each)")
    print(
        f"median {one['median_ms']:.1f} ms, p95 {one['p95_ms']:.1f} ms (of which explanations {one['explain_median_ms']:.1f} ms)"
    )
    if not args.skip_db:
        registry_part(args)


def registry_part(args) -> None:
    for name in args.databases.split(","):
        url = DATABASES[name]
        loaded = demo_database(url, args.enterprises)
        result = child("run", url)
        print(
            f"## Registry to stored run, {name} ({result['enterprises']:,} enterprises; demo loaded in {loaded:.0f} s)"
        )
        print(
            f"total {result['total_s']:.1f} s (reading the registry {result['read_s']:.1f} s); "
            f"{result['results']:,} results and {result['situations']:,} situations written"
        )
        for label, seconds in result["pages"].items():
            print(f"  {label}: median {seconds * 1000:.0f} ms")


if __name__ == "__main__":
    main()
