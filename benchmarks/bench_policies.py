"""免申即享 speed (issue 7): one run of a policy item over the whole registry, with every explanation stored.

    .venv/bin/python benchmarks/bench_policies.py [--enterprises 100000] [--databases sqlite,postgres] [--seed 20260101]
    .venv/bin/python benchmarks/bench_policies.py --reuse        # the databases of a previous invocation
    .venv/bin/python benchmarks/bench_policies.py --reuse --repeat 3 --postgres-url postgres://postgres@127.0.0.1:5432/NAME

A database filled by `kechuang demo --enterprises N` (fixed seed) and the period figures of `kechuang demo_policies`
(贷款利息, 保费), then, in a child process with DATABASE_URL set, `services.run_now` for each of four items (the run
reads the registry into one Polars frame, evaluates eligibility and amounts with their explanations at once, and
writes every eligible or undetermined enterprise's benefit — amount, explanation JSON, inputs JSON — in batches of
10,000 with progress: COPY on PostgreSQL, executemany on SQLite):

  A  新认定高企奖励       a certificate issued in the period; a fixed award
  B  研发投入补贴          holds 高企 and R&D ≥ 200万元; 5% of R&D, capped at 100万元
  C  保费补贴              holds 科小 or is assessed as meeting it (the rules engine evaluates every qualification); 60% of
                          the premium, capped at 10万元
  D  every enterprise      only "in business": a benefit row (granted, or undetermined for missing data) for every
                          enterprise in business: the most written
C runs twice: "C" reads the stored results of a finished tiering run of the same date and parameters (made first
if none exists, timed apart), "C′" makes the engine evaluate the registry during the run (no tiering run used).
Goal: ≤ 10 s per run for 100,000 enterprises (--repeat N: the median of N). Also: one enterprise's live test
(item_test), median of 20; the pages after run D; run D's payment list written as the worker writes it.
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
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import demo_database  # noqa: E402

sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
DATABASES = {
    "sqlite": "sqlite:////tmp/kechuang-bench-policies.sqlite3",
    "postgres": "postgres://postgres@127.0.0.1:5432/helper_policies",
}
OPINIONS = "沪松府〔2025〕150号"

ITEMS = {
    "A 新认定高企奖励": {
        "eligibility": [{"kind": "qualification", "qualification": "hnte", "test": "new"}],
        "formula": "award",
        "parameters": {"award": {"label": "奖励金额", "value": 200000, "unit": "元"}},
    },
    "B 研发投入补贴": {
        "eligibility": [
            {"kind": "qualification", "qualification": "hnte", "test": "held"},
            {"kind": "compare", "column": "rd_expense_hnte_lag1", "op": ">=", "value": 2000000},
        ],
        "formula": "rd_expense_hnte_lag1 * rate",
        "parameters": {"rate": {"label": "补贴比例", "value": 0.05, "unit": "比例"}},
        "cap_per_enterprise": Decimal("1000000"),
    },
    "C 保费补贴（含梯度评价）": {
        "eligibility": [
            {
                "kind": "any",
                "conditions": [
                    {"kind": "qualification", "qualification": "tech_sme", "test": "held"},
                    {"kind": "assessed", "area": "tech_sme"},
                ],
            }
        ],
        "formula": "insurance_premium * rate",
        "parameters": {"rate": {"label": "补贴比例", "value": 0.6, "unit": "比例"}},
        "cap_per_enterprise": Decimal("100000"),
    },
    "D 全部在营企业": {
        "eligibility": [],
        "formula": "min(rd_expense_hnte_lag1 * rate, sales_revenue_lag1 / 100)",
        "parameters": {"rate": {"label": "比例", "value": 0.02, "unit": "比例"}},
        "cap_per_enterprise": Decimal("500000"),
        "budget": Decimal("200000000"),
    },
}


# (label, item, read a finished tiering run's results when one covers the run)
RUNS = [
    ("A", "A 新认定高企奖励", True),
    ("B", "B 研发投入补贴", True),
    ("C", "C 保费补贴（含梯度评价）", True),
    ("C′", "C 保费补贴（含梯度评价）", False),
    ("D", "D 全部在营企业", True),
]


def runs(url: str, repeat: int) -> dict:
    """In a child process with DATABASE_URL set: each item's run over the registry, timed by stage."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kechuang.settings")
    import django

    django.setup()
    from django.contrib.auth.models import User

    from kechuang.core.roles import OFFICER
    from kechuang.enterprises.models import Enterprise
    from kechuang.policies import services
    from kechuang.policies.demo import load_demo_figures
    from kechuang.policies.models import Benefit, BenefitRun, PolicyDocument, PolicyItem
    from kechuang.policies.periods import Period

    load_demo_figures(dt.date.today())  # 贷款利息 and 保费 of the demo enterprises (idempotent)
    officer = User.objects.filter(groups__name=OFFICER.name).first()
    document = PolicyDocument.objects.get(number=OPINIONS)
    period = str(dt.date.today().year)
    stages: list[tuple[str, float]] = []
    real = services._progress

    def record(run, *, stage, processed):
        stages.append((stage, time.perf_counter()))
        real(run, stage=stage, processed=processed)

    services._progress = record
    items = {}
    for name, spec in ITEMS.items():
        item = PolicyItem.objects.filter(name=name).first()
        if item is None:
            item = services.item_save(
                item=PolicyItem(
                    document=document, name=name, kind="subsidy", effective_from=dt.date(2025, 11, 11), **spec
                ),
                user=officer,
            )
            services.item_transition(item=item, name="publish", user=officer)
            item.refresh_from_db()
        items[name] = item
    # The tiering run C reads: today's, with the parameters in force (made when missing, timed apart).
    from kechuang.policies.selectors import covering_assessment_run
    from kechuang.tiering import services as tiering_services

    snapshot = tiering_services.parameter_snapshot(tiering_services.parameter_set())
    tiering_s = None
    if covering_assessment_run(on=dt.date.today(), parameters=snapshot) is None:
        started = time.perf_counter()
        assert tiering_services.run_now(on=dt.date.today()).status == "done"
        tiering_s = time.perf_counter() - started
    results = {}
    for label, name, use_assessment_run in RUNS:
        item = items[name]
        measured = []
        for _ in range(repeat):
            for old in BenefitRun.objects.filter(item=item, period=period):
                Benefit.objects.filter(run=old).delete()
                old.delete()
            stages.clear()
            started = time.perf_counter()
            run = services.run_now(
                item=item, period_text=period, user=officer, use_assessment_run=use_assessment_run
            )
            total = time.perf_counter() - started
            assert run.status == "done", run.message
            assert (run.assessment_run_id is not None) == (label == "C"), (label, run.assessment_run_id)
            marks = {}
            for stage, at in stages:
                marks.setdefault(stage, at)
            measured.append(
                {
                    "total_s": total,
                    "read_s": marks["核定资格与金额"] - marks["读取企业数据"],
                    "evaluate_s": marks.get("保存核定结果", started + total) - marks["核定资格与金额"],
                    "write_s": started + total - marks.get("保存核定结果", started + total),
                    "rows": Benefit.objects.filter(run=run).count(),
                    "counts": run.counts,
                    "amount": str(run.total_amount),
                    "assessment_run": run.assessment_run_id,
                }
            )
        median = sorted(measured, key=lambda m: m["total_s"])[len(measured) // 2]
        median["all_s"] = [round(m["total_s"], 2) for m in measured]
        results[label] = median
    assert results["C"]["counts"] == results["C′"]["counts"]
    assert results["C"]["amount"] == results["C′"]["amount"]
    # The pages over the last run (D, the largest, confirmed: its payment list holds every granted benefit), as
    # the demo officer: median of 5.
    from django.test import Client

    from kechuang.enterprises.demo import KEY_ENTERPRISE_USER

    client = Client()
    client.force_login(officer)
    last = services.run_transition(
        run=BenefitRun.objects.order_by("-pk").first(), name="confirm", user=officer
    )
    key = Enterprise.objects.get(name=KEY_ENTERPRISE_USER)
    pages = {}
    for label, url in (
        ("审核列表第1页", f"/policies/runs/{last.pk}/"),
        ("审核列表筛选“待定”第10页", f"/policies/runs/{last.pk}/?state=undetermined&page=10"),
        ("兑付名单（长名单：确认后台生成页）", f"/policies/runs/{last.pk}/payments.xlsx"),
        ("企业可享政策页", f"/policies/enterprises/{key.pk}/"),
    ):
        times = []
        for _ in range(5):
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
        pages[label] = statistics.median(times) * 1000
    # Run D's payment list as the worker writes it (read by values_list, written by XlsxWriter): median of 3.
    from kechuang.policies import exporting
    from kechuang.policies.models import PaymentExport

    payment = []
    for _ in range(3):
        job = PaymentExport.objects.create(run=last, created_by=officer)
        started = time.perf_counter()
        job = exporting.payment_export_execute(job=job)
        payment.append(time.perf_counter() - started)
        assert job.status == "done", job.message
        payment_rows, payment_size = job.total_rows, job.file_size
        job.delete()
    started = time.perf_counter()
    exporting.payment_rows(last)
    payment_read = time.perf_counter() - started
    # One enterprise's live test (the item editor's "在企业上测试").
    item = PolicyItem.objects.get(name="C 保费补贴（含梯度评价）")
    enterprises = list(Enterprise.objects.order_by("pk")[:21])
    services.item_test(definition=item.definition(), enterprise=enterprises[0], period=Period.parse(period))
    times = []
    for enterprise in enterprises[1:]:
        started = time.perf_counter()
        services.item_test(definition=item.definition(), enterprise=enterprise, period=Period.parse(period))
        times.append(time.perf_counter() - started)
    return {
        "enterprises": Enterprise.objects.count(),
        "runs": results,
        "one_enterprise_ms": statistics.median(times) * 1000,
        "pages_ms": pages,
        "tiering_s": tiering_s,
        "payment_s": statistics.median(payment),
        "payment_read_s": payment_read,
        "payment_rows": payment_rows,
        "payment_mb": payment_size / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--reuse", action="store_true", help="keep the databases of a previous invocation")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each item; the median is shown")
    parser.add_argument(
        "--postgres-url", default=DATABASES["postgres"], help="the PostgreSQL database to fill"
    )
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(runs(args.child, args.repeat), ensure_ascii=False))
        return
    DATABASES["postgres"] = args.postgres_url
    for name in args.databases.split(","):
        url = DATABASES[name]
        loaded = None
        if not args.reuse:
            loaded = demo_database(url, args.enterprises, seed=args.seed)
        child = subprocess.run(
            [PYTHON, __file__, "--child", url, "--repeat", str(args.repeat)],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        if child.returncode:
            sys.exit(child.stderr)
        output = child.stdout
        result = json.loads(output.strip().splitlines()[-1])
        head = f"## {name}: {result['enterprises']:,} enterprises"
        print(head + (f" (demo loaded in {loaded:.0f} s)" if loaded else ""))
        if result["tiering_s"] is not None:
            print(f"tiering run of today made first (not counted in C): {result['tiering_s']:.1f} s")
        print(
            "| run | benefits written | granted | undetermined | read registry | evaluate + explain | write "
            "| **total (median)** | every run |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        for label, r in result["runs"].items():
            counts = r["counts"]
            print(
                f"| {label} | {r['rows']:,} | {counts.get('computed', 0):,} | {counts.get('undetermined', 0):,} "
                f"| {r['read_s']:.1f} s | {r['evaluate_s']:.1f} s | {r['write_s']:.1f} s | **{r['total_s']:.1f} s** "
                f"| {', '.join(f'{t:.1f}' for t in r['all_s'])} |"
            )
        print(
            f"payment list of run D ({result['payment_rows']:,} rows, {result['payment_mb']:.1f} MiB) written as the "
            f"worker writes it: median {result['payment_s']:.1f} s (rows read: {result['payment_read_s']:.2f} s)"
        )
        print(f"one enterprise's live test: median {result['one_enterprise_ms']:.0f} ms")
        for label, ms in result["pages_ms"].items():
            print(f"  {label}: median {ms:.0f} ms")


if __name__ == "__main__":
    main()
