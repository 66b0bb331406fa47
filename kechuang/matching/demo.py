"""Demo data for 双向发榜: about 150 achievements and 20 talent profiles of the 松江大学城 universities, about 40
technical demands of demo enterprises (the demo enterprise account's 移远通信 among them), across the eight
高新技术领域 (texts in demo_data.py, made up for the demo), and dockings at every stage with dated notes, some
signed this year and last, some declined with their reasons.

Everything goes through the services: each posting is checked as the forms check it and saved with its tokens
and index change (services.posting_seed), then published by an officer (services.posting_take, logged); the
dockings start from the engine's own recommendations (services.docking_create) and move step by step
(services.docking_step). A few postings are left 待审核 for the moderation queue. No e-mail is sent.

The demo university account (`university`) is made a user of 东华大学 (matching.Affiliation).
`load_demo_matching()` is idempotent: when the demo achievements are there it does nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import cycle

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from kechuang.core import roles
from kechuang.enterprises.demo import KEY_ENTERPRISE_USER
from kechuang.enterprises.models import Enterprise
from kechuang.matching import demo_data, selectors, services
from kechuang.matching.models import Achievement, Affiliation, Demand, Docking

BATCH = "demo"
DEMO_OFFICER = "matching-demo"
UNIVERSITY_ACCOUNT = "university"
PENDING_ACHIEVEMENTS = 2  # the last ones of the list stay 待审核, for the moderation queue
PENDING_DEMANDS = 1
# How far each of the first dockings goes: the state reached, in order of the demands that get one.
PLAN = (
    "landed",
    "signed",
    "negotiating",
    "declined:too_costly",
    "signed",
    "contacted",
    "landed",
    "declined:not_relevant",
    "recommended",
    "signed",
    "declined:ip_unclear",
    "negotiating",
    "declined:too_early",
    "contacted",
    "signed",
    "declined:no_response",
    "recommended",
    "declined:benefit_unclear",
)
NOTES = {
    "contact": "已电话联系对方联系人，约定到企业现场交流技术需求。",
    "negotiate": "双方技术人员现场交流，企业提供了样品和测试条件，进入合作方案与报价洽谈。",
    "sign": "双方签订技术开发合同，约定分两期付款，成果知识产权归企业所有。",
    "land": "样机在企业产线完成验证，技术指标达到合同要求，转入批量应用。",
}
DECLINE_NOTES = {
    "not_relevant": "交流后发现成果面向的工况与企业需求不一致，技术路线不对口。",
    "too_early": "成果仍处于实验室阶段，企业需要一年内可量产的方案。",
    "too_costly": "对方报价超出企业预算约一倍，双方未能就费用达成一致。",
    "ip_unclear": "成果的专利权属涉及多个单位，转让授权尚未理清，暂缓合作。",
    "benefit_unclear": "与企业现有方案相比性能提升有限，投入产出不明显。",
    "no_response": "多次联系对方未获回复，对接终止。",
    "other": "企业调整产品规划，需求暂停。",
}


class DemoError(Exception):
    pass


@dataclass
class Summary:
    skipped: bool = False
    demands: int = 0
    achievements: int = 0
    talents: int = 0
    pending: int = 0
    dockings: dict[str, int] = field(default_factory=dict)

    @property
    def text(self) -> str:
        if self.skipped:
            return "双向发榜示例数据已存在，未重复生成。"
        states = "、".join(f"{services.DOCKING_LABELS[s]} {n}" for s, n in self.dockings.items() if n)
        return (
            f"已生成双向发榜示例：技术需求 {self.demands} 项、科技成果 {self.achievements} 项、专家团队 {self.talents} 个"
            f"（其中 {self.pending} 项待审核）；对接 {sum(self.dockings.values())} 项（{states}）。"
        )


def _officer() -> User:
    """The demo officer account when it is there (kechuang demo_accounts), else a service account of the role."""
    found = User.objects.filter(username="officer", is_active=True).first()
    if found is not None and found.has_perm("matching.change_docking"):
        return found
    user, created = User.objects.get_or_create(username=DEMO_OFFICER, defaults={"first_name": "双向发榜示例"})
    if created:
        user.set_unusable_password()
        user.save()
    user.groups.add(Group.objects.get(name=roles.OFFICER.name))
    return User.objects.get(pk=user.pk)


def _phone(serial: int) -> str:
    return f"021-6779{serial % 10000:04d}"


def _enterprises_by_field() -> dict[str, list[Enterprise]]:
    found: dict[str, list[Enterprise]] = {}
    for enterprise in Enterprise.objects.filter(is_demo=True).exclude(hitech_field="").order_by("pk"):
        found.setdefault(enterprise.hitech_field, []).append(enterprise)
    return found


def load_demo_matching(today: dt.date | None = None) -> Summary:
    summary = Summary()
    if not Enterprise.objects.filter(is_demo=True).exists():
        raise DemoError("没有示例企业：请先运行 kechuang demo")
    if Achievement.objects.filter(import_batch=BATCH).exists():
        summary.skipped = True
        return summary
    today = today or timezone.localdate()
    roles.roles_sync()
    with (
        override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"),
        transaction.atomic(),
    ):
        officer = _officer()
        university = User.objects.filter(username=UNIVERSITY_ACCOUNT).first()
        if university is not None:
            Affiliation.objects.update_or_create(user=university, defaults={"organisation": demo_data.DHU})
        _postings(summary, officer, university)
        _dockings(summary, officer, today)
    return summary


def _publish(posting, officer, pending: bool, summary: Summary) -> None:
    if pending:
        summary.pending += 1
    else:
        services.posting_take(posting, "publish", user=officer, reason="示例数据，审核通过")


def _postings(summary: Summary, officer: User, university: User | None) -> None:
    serial = 0
    last = len(demo_data.ACHIEVEMENTS) - PENDING_ACHIEVEMENTS
    for number, (org, code, title, keywords, text, trl, modes) in enumerate(demo_data.ACHIEVEMENTS):
        serial += 1
        poster = university if (university is not None and org == demo_data.DHU) else officer
        posting = services.posting_seed(
            "achievement",
            user=poster,
            organisation=org,
            batch=BATCH,
            title=title,
            field=code,
            keywords=keywords,
            abstract=_abstract(text, trl),
            trl=trl,
            ip=f"发明专利（示例）{serial:03d} 号" if trl >= 5 else "",
            cooperation_modes=list(modes),
            contact_name=f"{org}技术转移中心",
            contact_phone=_phone(serial),
        )
        _publish(posting, officer, number >= last, summary)
        summary.achievements += 1
    for org, code, name, position, keywords, bio in demo_data.TALENTS:
        serial += 1
        poster = university if (university is not None and org == demo_data.DHU) else officer
        posting = services.posting_seed(
            "talent",
            user=poster,
            organisation=org,
            title=name,
            field=code,
            keywords=keywords,
            position=position,
            bio=bio,
            contact_name=f"{org}科技处",
            contact_phone=_phone(serial),
        )
        _publish(posting, officer, False, summary)
        summary.talents += 1
    by_field = _enterprises_by_field()
    key = Enterprise.objects.filter(name=KEY_ENTERPRISE_USER, is_demo=True).first()
    turns = {code: cycle(found) for code, found in by_field.items()}
    last = len(demo_data.DEMANDS) - PENDING_DEMANDS
    for number, (code, title, keywords, text, budget, days) in enumerate(demo_data.DEMANDS):
        serial += 1
        if key is not None and code == key.hitech_field and number < 2:
            enterprise = key
        elif code in turns:
            enterprise = next(turns[code])
        else:
            enterprise = next(turns[next(iter(turns))])
        posting = services.posting_seed(
            "demand",
            user=officer,
            enterprise=enterprise,
            title=title,
            field=code,
            keywords=keywords,
            description=text,
            budget=Decimal(budget) * 10000 if budget is not None else None,
            deadline=timezone.localdate() + dt.timedelta(days=days) if days else None,
            contact_name="技术部",
            contact_phone=f"1380021{serial % 10000:04d}",
        )
        _publish(posting, officer, number >= last, summary)
        summary.demands += 1


def _abstract(text: str, trl: int) -> str:
    stage = (
        "已完成原理验证"
        if trl <= 3
        else "已完成实验室验证"
        if trl <= 5
        else "已完成样机或中试验证"
        if trl <= 7
        else "已在企业规模应用"
    )
    return f"{text}。{stage}，技术成熟度 TRL {trl}。可根据企业需求开展二次开发与工艺适配。"


def _dockings(summary: Summary, officer: User, today: dt.date) -> None:
    counts = {state: 0 for state in services.DOCKING_LABELS}
    demands = list(Demand.objects.filter(state="published").order_by("pk"))
    plans = iter(PLAN)
    for number, demand in enumerate(demands):
        plan = next(plans, None)
        if plan is None:
            break
        matches = [m for m in selectors.demand_matches(demand, k=3) if m.kind == "achievement"]
        if not matches:
            continue
        start = today - dt.timedelta(days=420 - number * 20)
        docking = services.docking_create(
            demand,
            user=officer,
            achievement=matches[0].obj,
            today=start,
            note="由区科委技术经纪人根据推荐组织对接。",
        )
        goal, _, reason = plan.partition(":")
        steps = {"recommended": [], "contacted": ["contact"], "negotiating": ["contact", "negotiate"]}
        steps |= {
            "signed": [*steps["negotiating"], "sign"],
            "landed": [*steps["negotiating"], "sign", "land"],
        }
        path = steps["negotiating"][: 1 + number % 2] if goal == "declined" else steps[goal]
        day = start
        for name in path:
            day = min(today, day + dt.timedelta(days=18))
            amount = None
            if name == "sign":
                amount = (demand.budget or Decimal(500000)) * Decimal("0.8")
            services.docking_step(docking, name, user=officer, on=day, text=NOTES[name], amount=amount)
        if goal == "declined":
            day = min(today, day + dt.timedelta(days=10))
            services.docking_step(
                docking, "decline", user=officer, on=day, text=DECLINE_NOTES[reason], reason=reason
            )
        counts[Docking.objects.get(pk=docking.pk).state] += 1
    summary.dockings = counts
