"""`kechuang demo_policies`: demonstration policy items on the catalogue's documents, period figures for the demo
registry, and two 免申即享 runs (one confirmed, for the enterprises to accept; one awaiting review).

None of the source documents states an amount of money: 沪松府〔2025〕150号 asks to support newly recognised
高新技术企业 and 科技小巨人, 松科委〔2026〕13号 （八） to match 保费补贴 and 贴息 to enterprises, without figures. The
amounts, rates and caps below are therefore demonstration values, marked `is_demo` and said so on every page;
an officer replaces them with the real ones (a new item, or a draft edited before publishing).

Idempotent: items are found by name, figures by (enterprise, period, name), and a run is made only when the item
has none for that period.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import User
from django.utils import timezone

from kechuang.core import roles
from kechuang.enterprises.models import Enterprise, Qualification
from kechuang.policies import services
from kechuang.policies.models import BenefitRun, PolicyDocument, PolicyFigure, PolicyItem

SEED = 20260701
HELD_HNTE_OR_TECH_SME = {
    "kind": "any",
    "conditions": [
        {"kind": "qualification", "qualification": "hnte", "test": "held"},
        {"kind": "qualification", "qualification": "tech_sme", "test": "held"},
    ],
    "label": "持有有效的高新技术企业或科技型中小企业证书",
}

ITEMS = (
    {
        "name": "新认定高新技术企业奖励",
        "kind": "award",
        "document": "husongfu-2025-150",
        "article": "（一）",
        "description": "对兑现期间内新认定的高新技术企业给予一次性奖励，免申即享。",
        "eligibility": [{"kind": "qualification", "qualification": "hnte", "test": "new"}],
        "formula": "award",
        "parameters": {"award": {"label": "奖励金额", "value": 200000, "unit": "元"}},
        "effective_from": dt.date(2025, 11, 11),
    },
    {
        "name": "科技型企业贷款贴息",
        "kind": "interest",
        "document": "songkewei-2026-13",
        "article": "（八）",
        "description": "对存量获贷的高新技术企业、科技型中小企业，按当期实际支付利息的一定比例贴息，单户设上限。",
        "eligibility": [HELD_HNTE_OR_TECH_SME],
        "formula": "loan_interest * rate",
        "parameters": {"rate": {"label": "贴息比例", "value": 0.5, "unit": "比例"}},
        "cap_per_enterprise": Decimal("500000"),
        "budget": Decimal("20000000"),
        "budget_rule": "pro_rata",
        "effective_from": dt.date(2026, 3, 20),
        "effective_to": dt.date(2026, 12, 31),
    },
    {
        "name": "科技保险保费补贴",
        "kind": "insurance",
        "document": "songkewei-2026-13",
        "article": "（八）",
        "description": "对科技型中小企业投保科技保险的，按实际支付保费的一定比例补贴，单户设上限。",
        "eligibility": [
            {
                "kind": "any",
                "conditions": [
                    {"kind": "qualification", "qualification": "tech_sme", "test": "held"},
                    {"kind": "assessed", "area": "tech_sme"},
                ],
                "label": "持有科技型中小企业入库编号，或经评价满足科技型中小企业条件",
            }
        ],
        "formula": "insurance_premium * rate",
        "parameters": {"rate": {"label": "补贴比例", "value": 0.6, "unit": "比例"}},
        "cap_per_enterprise": Decimal("100000"),
        "effective_from": dt.date(2026, 3, 20),
        "effective_to": dt.date(2026, 12, 31),
    },
    {
        "name": "高新技术企业研发投入补贴",
        "kind": "subsidy",
        "document": "husongfu-2025-150",
        "article": "（二）",
        "description": "对研发投入较大的高新技术企业，按上年度研发费用的一定比例给予补贴，单户设上限。",
        "eligibility": [
            {"kind": "qualification", "qualification": "hnte", "test": "held"},
            {"kind": "compare", "column": "rd_expense_hnte_lag1", "op": ">=", "value": 5000000},
        ],
        "formula": "rd_expense_hnte_lag1 * rate",
        "parameters": {"rate": {"label": "补贴比例", "value": 0.05, "unit": "比例"}},
        "cap_per_enterprise": Decimal("1000000"),
        "effective_from": dt.date(2025, 11, 11),
    },
)


@dataclass
class DemoReport:
    items_created: int = 0
    figures_created: int = 0
    runs: list[BenefitRun] = field(default_factory=list)

    @property
    def text(self) -> str:
        lines = [
            f"示例政策事项：新建 {self.items_created} 项（金额为演示值，页面标“示例”）；兑现期间数据：新登记 {self.figures_created} 条。"
        ]
        for run in self.runs:
            lines.append(f"免申即享批次 {run.pk}（{run.definition['name']} {run.period}）：{run.message}")
        return "\n".join(lines)


def _officer() -> User:
    found = User.objects.filter(groups__name=roles.OFFICER.name, is_active=True).order_by("pk").first()
    if found:
        return User.objects.get(pk=found.pk)
    from django.contrib.auth.models import Group

    roles.roles_sync()
    user, _ = User.objects.get_or_create(
        username="demo-policies-officer", defaults={"first_name": "示例科委业务人员"}
    )
    user.groups.add(Group.objects.get(name=roles.OFFICER.name))
    return User.objects.get(pk=user.pk)


def load_demo_policies(*, today: dt.date | None = None) -> DemoReport:
    today = today or timezone.localdate()
    officer = _officer()
    report = DemoReport()
    items = {}
    for spec in ITEMS:
        item = PolicyItem.objects.filter(name=spec["name"], is_demo=True).first()
        if item is None:
            values = dict(spec)
            document = PolicyDocument.objects.get(catalogue_key=values.pop("document"))
            article = document.articles.get(number=values.pop("article"))
            item = services.item_save(
                item=PolicyItem(document=document, article=article, is_demo=True, **values), user=officer
            )
            services.item_transition(item=item, name="publish", user=officer, reason="示例数据")
            item.refresh_from_db()
            report.items_created += 1
        items[spec["name"]] = item
    report.figures_created = load_demo_figures(today)
    # A confirmed run of last year's awards (the enterprises accept them), and this year's 贴息 awaiting review.
    for name, period, confirm in (
        ("新认定高新技术企业奖励", str(today.year - 1), True),
        ("科技型企业贷款贴息", str(today.year), False),
    ):
        item = items[name]
        if (
            item.effective_from > dt.date(int(period), 12, 31)
            or BenefitRun.objects.filter(item=item, period=period).exists()
        ):
            continue
        run = services.run_now(item=item, period_text=period, user=officer)
        if confirm and run.status == BenefitRun.Status.DONE:
            run = services.run_transition(run=run, name="confirm", user=officer, reason="示例数据")
        report.runs.append(run)
    return report


def load_demo_figures(today: dt.date) -> int:
    """贷款利息支出 and 科技保险保费支出 of last year and this year for part of the demo enterprises holding a 高企 or
    科小 certificate (a fixed seed); the key enterprise of the demo enterprise user always has loan interest."""
    rng = random.Random(SEED)
    holders = sorted(
        set(
            Qualification.objects.filter(
                enterprise__is_demo=True, kind__in=["hnte", "tech_sme"], issue_date__lte=today
            ).values_list("enterprise_id", flat=True)
        )
    )
    from kechuang.enterprises.demo import KEY_ENTERPRISE_USER

    key = (
        Enterprise.objects.filter(name=KEY_ENTERPRISE_USER, is_demo=True).values_list("pk", flat=True).first()
    )
    existing = set(PolicyFigure.objects.values_list("enterprise_id", "period", "name"))
    rows = []
    for period in (str(today.year - 1), str(today.year)):
        for pk in holders:
            if pk == key or rng.random() < 0.4:
                interest = Decimal(rng.randrange(20_000, 1_400_000, 500))
                if (pk, period, "loan_interest") not in existing:
                    rows.append(
                        PolicyFigure(
                            enterprise_id=pk,
                            period=period,
                            name="loan_interest",
                            value=interest,
                            source="合作银行贷款付息清单（示例数据）",
                        )
                    )
            if rng.random() < 0.3:
                premium = Decimal(rng.randrange(5_000, 220_000, 100))
                if (pk, period, "insurance_premium") not in existing:
                    rows.append(
                        PolicyFigure(
                            enterprise_id=pk,
                            period=period,
                            name="insurance_premium",
                            value=premium,
                            source="科技保险承保清单（示例数据）",
                        )
                    )
    PolicyFigure.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
