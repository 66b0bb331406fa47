"""Demo data for 揭榜挂帅 (challenges.py): three challenges posted by demo enterprises, with answers.

Where the mechanism comes from (docs/sources/, the documents' own text):
- 沪松府〔2025〕150号 二（四）, file `001_c60c974973587176.txt` line 31: "健全企业“出题、答题、阅卷”机制……完善科研任务
  “揭榜挂帅”等模式，引导企业与高校、科研机构密切合作".
- 松科委〔2026〕13号 三（十一）, file `003_24d1a3d8067cc18f.txt` line 56: "依托科技攻关“揭榜挂帅”项目，促进区内科技服务
  资源供需有效匹配".
The problems, amounts, teams and scores are made up for the demo (marked 示例).

The three: one 揭榜中 posted by the demo enterprise account's enterprise with two answers (another demo
enterprise and a university team); one 揭榜中 by another enterprise that nobody has answered yet (the demo
enterprise account can answer it); one 阅卷中 with its answers, the demo expert invited and the poster's scores
given, so that an officer can finish the review and choose the winner. Everything goes through the services and
the workflow engine; for the one in review the deadline is then moved into the past, as time would have done.
`load_demo_challenges()` is idempotent: a challenge whose title exists is left alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from kechuang.core import roles
from kechuang.projects import challenges
from kechuang.projects.demo import _applicant, _enterprises, _officer, _user
from kechuang.projects.models import Challenge, Expert

UNIVERSITY_TEAM = "示例高校机械工程学院"

CHALLENGES = (
    {
        "title": "5G模组高温环境下射频性能衰减难题（示例）",
        "description": (
            "（示例数据）车载 5G 模组在 85℃ 环境连续工作 4 小时后，发射功率下降超过 2dB。\n"
            "需在不增加模组体积的前提下，将高温功率衰减控制在 0.5dB 以内，并通过车规级可靠性试验。"
        ),
        "field": "01",
        "keywords": "5G模组、射频前端、热设计、车规级",
        "budget": Decimal("1500000"),
        "subsidy_cap": Decimal("500000"),
        "days": 25,
        "state": "published",
        "answers": (
            (
                1,
                {
                    "leader": "示例负责人甲",
                    "members": "示例负责人甲（高级工程师）\n示例成员乙（工程师）",
                    "proposal": "（示例）采用氮化镓功放与均热板散热，6 个月完成样机，12 个月完成车规验证。",
                    "quoted_amount": Decimal("1200000"),
                    "period_months": 12,
                },
            ),
            (
                None,
                {
                    "leader": "示例教授丙",
                    "members": "示例教授丙\n示例博士丁",
                    "proposal": "（示例）基于温度补偿的数字预失真算法，配合热仿真优化布局。",
                    "quoted_amount": Decimal("900000"),
                    "period_months": 18,
                },
            ),
        ),
    },
    {
        "title": "工业视觉微小缺陷漏检率偏高难题（示例）",
        "description": (
            "（示例数据）产线视觉检测对 0.1mm 以下划痕漏检率约 8%。需将漏检率降至 1% 以下、误检率不高于 2%，"
            "单件检测时间不超过 200ms。"
        ),
        "field": "08",
        "keywords": "工业视觉、缺陷检测、深度学习",
        "budget": Decimal("600000"),
        "subsidy_cap": Decimal("200000"),
        "days": 40,
        "state": "published",
        "answers": (),
    },
    {
        "title": "植入电极长期稳定性提升难题（示例）",
        "description": (
            "（示例数据）植入式神经电极 12 周后阻抗漂移超过 30%。需将 12 周阻抗漂移控制在 15% 以内，"
            "并完成动物实验验证。"
        ),
        "field": "02",
        "keywords": "神经电极、生物相容、涂层",
        "budget": Decimal("1000000"),
        "subsidy_cap": Decimal("400000"),
        "days": 20,
        "state": "reviewing",
        "answers": (
            (
                0,
                {
                    "leader": "示例负责人戊",
                    "members": "示例负责人戊（研究员）",
                    "proposal": "（示例）可降解抗炎涂层，配合表面微结构处理。",
                    "quoted_amount": Decimal("800000"),
                    "period_months": 15,
                },
            ),
            (
                None,
                {
                    "leader": "示例教授己",
                    "members": "示例教授己\n示例博士庚",
                    "proposal": "（示例）导电水凝胶界面层，降低组织反应。",
                    "quoted_amount": Decimal("700000"),
                    "period_months": 18,
                },
            ),
        ),
        "poster_scores": (Decimal("86"), Decimal("78")),
    },
)


@dataclass
class DemoChallengesReport:
    created: list[str] = field(default_factory=list)
    existing: int = 0
    answers: int = 0
    skipped: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        if not self.created:
            lines = [f"揭榜挂帅示例榜单已存在 {self.existing} 个，未重复生成。"] if self.existing else []
        else:
            lines = [
                f"揭榜挂帅示例榜单 {len(self.created)} 个（{'、'.join(self.created)}），揭榜方案 {self.answers} 份。"
            ]
        return "\n".join(lines + self.skipped)


def _university_user() -> User:
    """The demo university account when there is one, else a demo actor in the university role."""
    found = User.objects.filter(
        username="university", is_active=True, groups__name=roles.UNIVERSITY.name
    ).first()
    return User.objects.get(pk=found.pk) if found else _user("demo-university", roles.UNIVERSITY)


@transaction.atomic
def load_demo_challenges(*, now: dt.datetime | None = None) -> DemoChallengesReport:
    """The three demo challenges (needs `kechuang demo` first for the enterprises)."""
    roles.roles_sync()
    report = DemoChallengesReport()
    enterprises = _enterprises(3)
    if len(enterprises) < 3:
        report.skipped.append(
            f"示例企业只有 {len(enterprises)} 家（先运行 kechuang demo），未生成揭榜挂帅示例。"
        )
        return report
    now = now or timezone.now()
    officer = _officer()
    posters = (enterprises[0], enterprises[1], enterprises[2])
    experts = list(Expert.objects.filter(active=True, user__isnull=False).order_by("pk")[:2])
    for spec, poster in zip(CHALLENGES, posters, strict=True):
        if Challenge.objects.filter(title=spec["title"]).exists():
            report.existing += 1
            continue
        author = _applicant(poster)
        deadline = timezone.localtime(now).replace(hour=17, minute=0, second=0, microsecond=0)
        challenge = challenges.challenge_create(
            poster=poster,
            user=author,
            now=now,
            title=spec["title"],
            description=spec["description"],
            field=spec["field"],
            keywords=spec["keywords"],
            budget=spec["budget"],
            subsidy_cap=spec["subsidy_cap"],
            deadline=deadline + dt.timedelta(days=spec["days"]),
        )
        challenges.challenge_submit(challenge, user=author)
        challenges.challenge_take(challenge, "publish", user=officer, reason="示例数据")
        answers = []
        for index, values in spec["answers"]:
            if index is None:
                answers.append(
                    challenges.answer_submit(
                        challenge, user=_university_user(), organisation=UNIVERSITY_TEAM, now=now, **values
                    )
                )
            else:
                other = enterprises[index]
                answers.append(challenges.answer_submit(challenge, user=_applicant(other), now=now, **values))
        report.answers += len(answers)
        if spec["state"] == "reviewing":
            Challenge.objects.filter(pk=challenge.pk).update(deadline=now - dt.timedelta(days=1))
            challenge = Challenge.objects.get(pk=challenge.pk)
            challenges.challenge_take(challenge, "close", user=officer, reason="示例数据：揭榜已截止")
            if experts:
                challenges.invite_experts(challenge, experts=experts, user=officer)
            else:
                report.skipped.append(
                    "专家库中没有带登录账号的专家（先运行 kechuang demo_accounts），示例阅卷未邀请专家。"
                )
            challenges.challenge_take(challenge, "start_review", user=officer, reason="示例数据")
            for answer, score in zip(answers, spec["poster_scores"], strict=True):
                challenges.review_submit(answer, user=author, score=score, comment="（示例）发榜单位评分")
        report.created.append(f"{spec['title']}（{challenges.state_label(challenge)}）")
    return report
