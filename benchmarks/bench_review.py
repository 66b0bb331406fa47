"""Expert review speed (issue 5): proposing experts for a whole call, and the ranking page.

    .venv/bin/python benchmarks/bench_review.py [--applications 2000] [--experts 300] [--databases sqlite,postgres]

In a fresh database per engine (migrated, then filled in bulk with a fixed seed): N enterprises each with one
application of one call (formally passed, 5 experts per application, a 4-item score sheet), M experts with
1–2 fields and 3–6 keywords, about 3 recorded conflicts per expert plus experts working at an applicant (by
credit code, and by name with full-width brackets).

1. `review.propose(call)`: median of 3 seeds. Goal ≤ 5 s for 2,000 applications × 300 experts.
2. `review.assign` of the proposal (bulk write), and `review.submit_scores` on 100 assignments (median);
   every other assignment then gets its scores in bulk.
3. The ranking page (/projects/review/calls/<pk>/ranking/, first page of 100, every application scored) as an
   officer through the Django test client: median and p95 over 50 requests, every 10th right after a new score
   (the ranking is remembered until a score changes; those requests compute it again); computing the ranking
   (`call_ranking_now`) alone, median of 5.

Prints lines for RESULTS.md (it does not write it).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import fresh_database  # noqa: E402

sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
DATABASES = {
    "sqlite": "sqlite:////tmp/kechuang-bench-review.sqlite3",
    "postgres": "postgres://postgres@127.0.0.1:5432/kechuang_bench_review",
}
WORDS = (
    "芯片 封装 测试 传感器 物联网 人工智能 机器视觉 大数据 云计算 区块链 5G 射频 光通信 集成电路 工业软件 "
    "抗体 疫苗 基因治疗 细胞治疗 医疗器械 诊断试剂 中药 创新药 合成生物 "
    "无人机 卫星导航 航空材料 复合材料 纳米材料 高分子 石墨烯 稀土 陶瓷 "
    "检验检测 工业设计 知识产权服务 科技金融 "
    "光伏 储能 氢能 锂电池 节能 智能电网 "
    "污水处理 固废 土壤修复 大气治理 "
    "机器人 数控机床 智能制造 激光 增材制造 精密仪器 工业互联网"
).split()
FIELDS = [f"0{i}" for i in range(1, 9)]
SHEET = [
    {"key": "innovation", "label": "技术创新性", "max": 30, "weight": 30},
    {"key": "feasibility", "label": "技术可行性", "max": 25, "weight": 25},
    {"key": "team", "label": "团队与基础", "max": 20, "weight": 20},
    {"key": "benefit", "label": "经济社会效益", "max": 25, "weight": 25},
]


def fill(n_apps: int, n_experts: int):
    """The call, its applications and the expert pool, in bulk (fixed seed)."""
    import datetime as dt
    from decimal import Decimal

    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from kechuang.core import roles
    from kechuang.core.uscc import make_code
    from kechuang.enterprises.models import Enterprise
    from kechuang.projects.models import Application, Call, ConflictKind, Expert, ExpertConflict, Programme
    from kechuang.workflows import engine

    rng = random.Random(2026)
    officer = User.objects.create_user("bench-officer", password="bench-officer-pass")
    officer.groups.add(Group.objects.get(name=roles.OFFICER.name))
    enterprises = Enterprise.objects.bulk_create(
        [
            Enterprise(
                uscc=make_code(f"91310117MA4B{n:05d}"),
                name=f"上海基准{n}科技（集团）有限公司",
                hitech_field=rng.choice(FIELDS),
            )
            for n in range(n_apps)
        ],
        batch_size=1000,
    )
    enterprises = list(Enterprise.objects.order_by("pk"))
    now = timezone.now()
    programme = Programme.objects.create(code="bench", name="科技攻关")
    call = Call(
        programme=programme,
        year=2026,
        title="基准批次",
        guide="指南",
        budget_total=Decimal("100000000"),
        cap_per_project=Decimal("500000"),
        opens_at=now - dt.timedelta(days=60),
        closes_at=now - dt.timedelta(days=30),
        score_sheet=SHEET,
        experts_per_application=5,
    )
    engine.start(call, "projects.call")
    call.state = "reviewing"
    call.save()
    workflow = engine.current("projects.application")
    Application.objects.bulk_create(
        [
            Application(
                call=call,
                enterprise=ent,
                title=f"基准项目{i}",
                field=ent.hitech_field,
                keywords="、".join(rng.sample(WORDS, rng.randint(2, 5))),
                requested_amount=Decimal("300000"),
                submitted_at=now - dt.timedelta(days=31, minutes=i),
                workflow=workflow,
                state="formally_passed",
            )
            for i, ent in enumerate(enterprises)
        ],
        batch_size=1000,
    )
    experts = []
    for i in range(n_experts):
        organisation, code = f"某大学{i % 40}", ""
        if i % 15 == 0:  # works at an applicant, by credit code
            ent = rng.choice(enterprises)
            organisation, code = ent.name, ent.uscc
        elif i % 15 == 1:  # works at an applicant, named with half-width brackets and a space
            organisation = rng.choice(enterprises).name.replace("（", "(").replace("）", ") ")
        experts.append(
            Expert(
                name=f"专家{i:03d}",
                organisation=organisation,
                organisation_code=code,
                fields=rng.sample(FIELDS, rng.randint(1, 2)),
                keywords="，".join(rng.sample(WORDS, rng.randint(3, 6))),
            )
        )
    Expert.objects.bulk_create(experts)
    experts = list(Expert.objects.order_by("pk"))
    pairs = {(rng.choice(experts).pk, rng.choice(enterprises).pk) for _ in range(3 * n_experts)}
    kinds = [ConflictKind.COLLABORATION, ConflictKind.SAME_ORGANISATION, ConflictKind.DECLARED]
    ExpertConflict.objects.bulk_create(
        [ExpertConflict(expert_id=e, enterprise_id=n, kind=rng.choice(kinds)) for e, n in pairs],
        batch_size=1000,
    )
    return call, officer, len(pairs)


def run(url: str, n_apps: int, n_experts: int) -> dict:
    """In a child process with DATABASE_URL set."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kechuang.settings")
    import django

    django.setup()
    from collections import Counter
    from decimal import Decimal

    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from kechuang.projects import review, review_selectors
    from kechuang.projects.models import ReviewAssignment, Score

    started = time.perf_counter()
    call, officer, conflicts = fill(n_apps, n_experts)
    filled = time.perf_counter() - started

    times, proposal = [], None
    for seed in (1, 2, 3):
        started = time.perf_counter()
        proposal = review.propose(call, seed=seed)
        times.append(time.perf_counter() - started)
    load = Counter(e.pk for picks in proposal.values() for e, _ in picks)
    field_matched = sum(1 for picks in proposal.values() for _, r in picks if r.startswith("领域匹配"))

    started = time.perf_counter()
    created = review.assign(call, proposal, officer)
    assign_s = time.perf_counter() - started

    rng = random.Random(7)
    sample, submit_times = created[:100], []
    for a in sample:
        values = {c["key"]: Decimal(rng.randint(c["max"] // 3, c["max"])) for c in SHEET}
        started = time.perf_counter()
        review.submit_scores(a, values, "意见", None)
        submit_times.append(time.perf_counter() - started)
    rest = created[100:]
    sheet = review.criteria(call)
    scores, now = [], timezone.now()
    for a in rest:  # what submit_scores writes, in bulk: the scores, and the assignment with its total
        values = {c["key"]: Decimal(rng.randint(c["max"] // 3, c["max"])) for c in SHEET}
        scores += [Score(assignment=a, criterion=key, value=value) for key, value in values.items()]
        a.state, a.submitted_at, a.total = "submitted", now, review.weighted_total(sheet, values)
    Score.objects.bulk_create(scores, batch_size=2000)
    ReviewAssignment.objects.bulk_update(rest, ["state", "submitted_at", "total"], batch_size=2000)

    ranking_times = []
    for _ in range(5):
        started = time.perf_counter()
        rows = review_selectors.call_ranking_now(call)
        ranking_times.append(time.perf_counter() - started)
    address = reverse("projects:review-ranking", args=[call.pk])
    client = Client()
    client.force_login(officer)
    assert client.get(address).status_code == 200  # warm-up
    # As during a review: every 10th request comes right after a new score (a changed total), so the ranking
    # is computed again for it; the others find it remembered.
    page_times, after_score_times = [], []
    for number in range(50):
        changed = number % 10 == 0
        if changed:
            a = rest[number]
            ReviewAssignment.objects.filter(pk=a.pk).update(
                total=a.total + Decimal("0.01"), submitted_at=timezone.now()
            )
        started = time.perf_counter()
        response = client.get(address)
        page_times.append(time.perf_counter() - started)
        if changed:
            after_score_times.append(page_times[-1])
        assert response.status_code == 200, response.status_code
    page_times.sort()
    return {
        "applications": n_apps,
        "experts": n_experts,
        "conflicts": conflicts,
        "fill_s": filled,
        "propose_s": statistics.median(times),
        "propose_min_s": min(times),
        "propose_max_s": max(times),
        "picks": proposal.count,
        "short": len(proposal.notes),
        "load_min": min(load.values()),
        "load_max": max(load.values()),
        "experts_used": len(load),
        "field_matched": field_matched,
        "assign_s": assign_s,
        "assigned": len(created),
        "submit_ms": statistics.median(submit_times) * 1000,
        "scores": Score.objects.count(),
        "ranked": sum(1 for r in rows if r.rank),
        "outlier_apps": sum(1 for r in rows if r.outliers),
        "ranking_ms": statistics.median(ranking_times) * 1000,
        "page_median_ms": statistics.median(page_times) * 1000,
        "page_p95_ms": page_times[int(len(page_times) * 0.95) - 1] * 1000,
        "page_after_score_ms": statistics.median(after_score_times) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=2000)
    parser.add_argument("--experts", type=int, default=300)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--child", nargs=3, metavar=("URL", "APPLICATIONS", "EXPERTS"))
    args = parser.parse_args()
    if args.child:
        url, n_apps, n_experts = args.child
        print(json.dumps(run(url, int(n_apps), int(n_experts)), ensure_ascii=False))
        return
    for name in args.databases.split(","):
        url = DATABASES[name]
        fresh_database(url)
        output = subprocess.run(
            [PYTHON, __file__, "--child", url, str(args.applications), str(args.experts)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout
        r = json.loads(output.strip().splitlines()[-1])
        print(
            f"## Expert review, {name} ({r['applications']:,} applications × {r['experts']} experts, 5 per application, "
            f"{r['conflicts']:,} recorded conflicts; filled in {r['fill_s']:.0f} s)"
        )
        print(
            f"propose: median {r['propose_s']:.2f} s of 3 seeds (min {r['propose_min_s']:.2f}, max {r['propose_max_s']:.2f}; "
            f"goal ≤ 5 s); {r['picks']:,} picks, {r['short']} applications short, field match "
            f"{r['field_matched'] / max(r['picks'], 1):.0%}, {r['experts_used']} experts used, "
            f"{r['load_min']}–{r['load_max']} each"
        )
        print(
            f"assign (bulk): {r['assign_s']:.2f} s for {r['assigned']:,} assignments; "
            f"submit_scores: median {r['submit_ms']:.1f} ms (100 submissions)"
        )
        print(
            f"ranking page (first 100 of {r['ranked']:,} ranked, {r['scores']:,} scores, {r['outlier_apps']} with outliers): "
            f"median {r['page_median_ms']:.0f} ms, p95 {r['page_p95_ms']:.0f} ms over 50 requests, every 10th right after a "
            f"new score (those: median {r['page_after_score_ms']:.0f} ms); ranking computed alone median {r['ranking_ms']:.0f} ms"
        )


if __name__ == "__main__":
    main()
