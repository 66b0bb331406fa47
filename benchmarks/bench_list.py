"""Registry list page with 100,000 enterprises: p50/p95 latency of real requests, SQLite and PostgreSQL.

    .venv/bin/python benchmarks/bench_list.py [--enterprises 100000] [--requests 40] [--databases sqlite,postgres]

Each database is filled by `kechuang demo --enterprises N` (fixed seed), then the page is requested through
Django's test client in one process (middleware, ORM, template rendering; no network), logged in as an officer.
Goal (issue 2): p95 ≤ 150 ms for filtered and sorted lists, page 1 and page 500.
"""

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
from common import demo_database  # noqa: E402

PYTHON = sys.executable
DATABASES = {
    "sqlite": "sqlite:////tmp/kechuang-bench-list.sqlite3",
    "postgres": "postgres://postgres@127.0.0.1:5432/kechuang_bench_list",
}
SCENARIOS = [
    ("未筛选，按名称排序，第1页", {"sort": "name"}),
    ("未筛选，按名称排序，第500页", {"sort": "name", "page": "500"}),
    ("按行业筛选，按成立日期倒序，第1页", {"industry": "C", "sort": "-registration_date"}),
    ("按行业筛选，按成立日期倒序，第500页", {"industry": "C", "sort": "-registration_date", "page": "500"}),
    ("有效期内高企，按园区排序，第1页", {"qualification": "hnte", "validity": "valid", "sort": "park"}),
    (
        "有效期内高企，按园区排序，第500页",
        {"qualification": "hnte", "validity": "valid", "sort": "park", "page": "500"},
    ),
    ("关键词搜索“科技”，第1页", {"q": "科技"}),
    ("园区（含分园）+ 领域筛选，第1页", {"park": "1", "hitech_field": "01"}),
]


def expected_page(params):
    """The page the request should have shown, computed outside the timed loop."""
    from django.contrib.auth.models import User
    from django.core.paginator import Paginator

    from kechuang.enterprises import selectors
    from kechuang.enterprises.views.registry import PAGE_SIZE

    filters = selectors.RegistryFilters.from_params(params)
    qs = selectors.enterprise_list(user=User.objects.get(username="officer"), filters=filters)
    return Paginator(qs, PAGE_SIZE).get_page(params.get("page"))


def measure(requests: int) -> list[dict]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kechuang.settings")
    django.setup()
    from django.contrib.auth.models import User
    from django.test import Client

    from kechuang.enterprises.models import Enterprise

    client = Client()
    client.force_login(User.objects.get(username="officer"))
    results = []
    for label, params in SCENARIOS:
        for _ in range(5):  # warm caches
            client.get("/enterprises/", params)
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get("/enterprises/", params)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        page = expected_page(params)
        assert page.paginator.count == 0 or page.object_list[0].name in response.content.decode()
        times.sort()
        results.append(
            {
                "scenario": label,
                "rows": page.paginator.count,
                "page": page.number,
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
            }
        )
    results.append({"scenario": "企业总数", "rows": Enterprise.objects.count()})
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--enterprises", type=int, default=100000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_only:
        print(json.dumps(measure(args.requests), ensure_ascii=False))
        return
    for name in args.databases.split(","):
        url = DATABASES[name]
        print(f"== {name}: {url}", flush=True)
        print(f"  demo data loaded in {demo_database(url, args.enterprises):.1f} s", flush=True)
        env = {**os.environ, "DATABASE_URL": url, "DEBUG": "False"}
        out = subprocess.run(
            [PYTHON, __file__, "--measure-only", "--requests", str(args.requests)],
            env=env,
            check=True,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout
        print("| 场景 | 结果行数 | 页 | p50 (ms) | p95 (ms) |\n| --- | ---: | ---: | ---: | ---: |")
        for row in json.loads(out.strip().splitlines()[-1]):
            if "p95_ms" in row:
                print(
                    f"| {row['scenario']} | {row['rows']:,} | {row['page']} | {row['p50_ms']} | {row['p95_ms']} |"
                )
            else:
                print(f"\n{row['scenario']}: {row['rows']:,}")


if __name__ == "__main__":
    main()
