"""统计监测 dashboard with 100,000 enterprises: median and p95 latency of real requests, SQLite and PostgreSQL.

    .venv/bin/python benchmarks/bench_indicators.py [--enterprises 100000] [--requests 50] [--databases sqlite,postgres]

Each database is filled by `kechuang demo --enterprises N --seed 20260101` and `kechuang demo_indicators` (the
catalogue's indicators, figures and targets come with migrate), then `/indicators/` is requested through Django's
test client in one process (middleware, session, ORM, template rendering; no network), logged in as the demo
officer, DEBUG off: 3 warm-up requests, then N timed; then N/5 (at least 5) with the remembered registry counts
cleared first, as the first request after a registry change finds them. The page counts the registry live: each computed indicator
with a target on the dates of its trend (one query each), one computed indicator by park and field (one query),
the 20 key enterprises of 附件4. Goal: p95 ≤ 200 ms at 100,000 enterprises.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import demo_database, kechuang  # noqa: E402

PYTHON = sys.executable
SEED = 20260101
URL = "/indicators/"
DATABASES = {
    "sqlite": "sqlite:////tmp/kechuang-bench-indicators.sqlite3",
    "postgres": "postgres://postgres@127.0.0.1:5432/kechuang_bench_indicators",
}


def measure(requests: int) -> dict:
    """In a child process with DATABASE_URL and DEBUG=False set."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kechuang.settings")
    django.setup()
    from django.contrib.auth.models import User
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from kechuang.enterprises.models import Enterprise, Qualification
    from kechuang.indicators import selectors
    from kechuang.indicators.models import Target

    client = Client()
    client.force_login(User.objects.get(username="officer"))
    for _ in range(3):  # warm-up: templates, URL resolvers, the database's caches
        assert client.get(URL).status_code == 200
    times, cold = [], []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(URL)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    # The first request after the registry changed counts it afresh (the counts are remembered until then).
    for _ in range(max(5, requests // 5)):
        cache.clear()
        started = time.perf_counter()
        assert client.get(URL).status_code == 200
        cold.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(URL)
    board = selectors.dashboard()  # what the page showed, outside the timed requests
    computed = selectors.computed_indicators()
    shown = next((i for i in computed if i.computed == "hnte_valid"), computed[0] if computed else None)
    breakdown = selectors.breakdown(shown) if shown else None
    times.sort()
    return {
        "enterprises": Enterprise.objects.count(),
        "qualifications": Qualification.objects.count(),
        "targets": Target.objects.filter(parent__isnull=True).count(),
        "rows": len(board.rows),
        "charts": len(board.charts),
        "breakdown": f"{breakdown.indicator.name} {breakdown.total:,}" if breakdown else "—",
        "queries": len(queries),
        "requests": requests,
        "median_ms": statistics.median(times),
        "p95_ms": times[max(0, int(len(times) * 0.95) - 1)],
        "max_ms": times[-1],
        "cold_median_ms": statistics.median(cold),
        "cold_requests": len(cold),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_only:
        print(json.dumps(measure(args.requests), ensure_ascii=False))
        return
    lines = []
    for name in args.databases.split(","):
        url = DATABASES[name]
        print(f"== {name}: {url}", flush=True)
        loaded = demo_database(url, args.enterprises, SEED)
        kechuang(url, "demo_indicators", quiet=True)
        env = {**os.environ, "DATABASE_URL": url, "DEBUG": "False"}
        out = subprocess.run(
            [PYTHON, __file__, "--measure-only", "--requests", str(args.requests)],
            env=env,
            check=True,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(
            f"  demo loaded in {loaded:.0f} s: {r['enterprises']:,} enterprises, {r['qualifications']:,} qualifications; "
            f"{r['targets']} document targets, {r['charts']} trend charts, breakdown: {r['breakdown']}; "
            f"{r['queries']} queries per request"
        )
        print(
            f"  {r['requests']} requests after 3 warm-ups: median {r['median_ms']:.0f} ms, "
            f"p95 {r['p95_ms']:.0f} ms, max {r['max_ms']:.0f} ms (goal p95 ≤ 200 ms); "
            f"first request after a registry change: median {r['cold_median_ms']:.0f} ms of {r['cold_requests']}",
            flush=True,
        )
        lines.append(
            f"| {name} | {r['enterprises']:,} | {r['qualifications']:,} | {r['rows']} | {r['queries']} "
            f"| {r['median_ms']:.0f} | {r['p95_ms']:.0f} | {r['cold_median_ms']:.0f} |"
        )
    print("\nFor benchmarks/RESULTS.md (统计监测 dashboard, `/indicators/`, officer):\n")
    print(
        "| database | enterprises | qualifications | targets shown | queries | median (ms) | p95 (ms) "
        "| after a registry change, median (ms) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
