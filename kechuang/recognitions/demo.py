"""Demo data for 认定登记 (after `kechuang demo`, and preferably `demo_accounts` and `demo_projects`): about 30
technology contracts over the demo enterprises — most registered this year and last, some waiting, 未予登记 or
cancelled, with payment plans, payments and a few behind schedule — and about 15 高转 projects in every state of
their workflow, the recognised ones with three expert reviews and a certificate.

Everything goes through the services (contracts.py, transformation.py) and the workflow engine, so the demo obeys
the same rules as users (IP age windows, duplicates, amounts, conflicts of interest). Names, numbers and amounts
are made up and marked 示例 (is_demo); the sellers and applicants are demo enterprises, whose IP assets the
projects cite. `load_demo()` is idempotent: a second run finds the demo rows and does nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from kechuang.core import roles
from kechuang.core.uscc import make_code
from kechuang.enterprises.choices import IPStatus
from kechuang.enterprises.models import Enterprise, IPAsset, Membership
from kechuang.projects.demo import DEMO_APPLICANT, DEMO_EXPERTS
from kechuang.projects.models import Expert
from kechuang.recognitions import contracts, eligibility, transformation
from kechuang.recognitions.choices import SUB_TYPES, ContractType, Exclusion, PaymentMode
from kechuang.recognitions.models import TechContract, TransformationProject, TransformationReview

SEED = 20260701
CONTRACTS = 30
PROJECTS = 15
OFFICER_FALLBACK = "demo-recognitions-officer"
BUYERS = (
    ("上海示例智能装备有限公司", "310115"),
    ("苏州示例新材料科技有限公司", "320505"),
    ("杭州示例生物医药有限公司", "330106"),
    ("合肥示例新能源有限公司", "340104"),
    ("上海示例集成电路设计有限公司", "310112"),
    ("嘉兴示例精密制造有限公司", "330402"),
    ("上海示例检测技术服务有限公司", "310117"),
    ("南京示例软件有限公司", "320114"),
)
FOREIGN_BUYER = ("Beispiel Maschinenbau GmbH（示例）", "DEU")
UNIVERSITY_SELLERS = (  # sellers outside the registry: (name, the first 17 characters of a USCC)
    ("上海某大学技术转移中心（示例）", "12310000MB0000001"),
    ("松江大学城某研究院（示例）", "12310000MB0000002"),
)
SUBJECTS = (
    "高精度晶圆检测算法",
    "纤维复合材料成型工艺",
    "工业机器人视觉定位",
    "新型储能电池管理系统",
    "医用影像智能识别",
    "低空飞行器飞控软件",
    "智能网联汽车传感器",
    "生物可降解材料配方",
    "工业互联网数据平台",
    "高效光伏组件封装",
)
ROYALTY_NOTE = "提成支付：按合同产品年度销售额的一定比例结算，金额无法预先确定"
PROJECT_PRODUCTS = (
    ("基于深度学习的晶圆缺陷检测系统", "01", "微电子技术"),
    ("高强度碳纤维复合材料构件", "04", "高分子材料"),
    ("协作机器人一体化关节模组", "08", "先进制造工艺与装备"),
    ("液冷储能系统能量管理单元", "06", "新型高效能量转换与储存技术"),
    ("便携式即时检测（POCT）分析仪", "02", "医疗仪器、设备与医学专用软件"),
    ("工业设备预测性维护软件", "01", "软件"),
    ("城市内涝监测预警终端", "07", "环境监测及环境事故应急处理技术"),
    ("无人机智能巡检服务", "05", "信息技术服务"),
    ("高导热氮化铝陶瓷基板", "04", "无机非金属材料"),
    ("智能网联汽车域控制器", "08", "汽车及轨道车辆相关技术"),
    ("可降解医用缝合材料", "04", "生物医用材料"),
    ("分布式光伏智能运维平台", "06", "可再生清洁能源"),
    ("低功耗物联网通信模组", "01", "通信技术"),
    ("精密减速器在线检测装置", "08", "高性能、智能化仪器仪表"),
    ("数字孪生工厂仿真服务", "05", "研发与设计服务"),
)


@dataclass
class Report:
    contracts: int = 0
    projects: int = 0
    skipped: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        if self.skipped:
            return "已有认定登记示例数据，未重复生成。"
        lines = [
            f"已生成认定登记示例数据（标“示例”）：技术合同 {self.contracts} 项；高转项目 {self.projects} 个。"
        ]
        return "\n".join(lines + self.notes)


class DemoError(Exception):
    pass


def _user(username: str, role: roles.Role) -> User:
    user, created = User.objects.get_or_create(username=username, defaults={"first_name": f"示例{role.name}"})
    if created:
        user.set_unusable_password()
        user.save()
    user.groups.add(Group.objects.get(name=role.name))
    return User.objects.get(pk=user.pk)  # fresh permission cache


def _officer() -> User:
    found = User.objects.filter(username="officer", is_active=True, groups__name=roles.OFFICER.name).first()
    return User.objects.get(pk=found.pk) if found else _user(OFFICER_FALLBACK, roles.OFFICER)


def _applicant(enterprise: Enterprise) -> User:
    """A user of the enterprise: the demo enterprise account when it acts for it, else a demo actor (the same
    one as the 科技计划 demo's)."""
    member = (
        User.objects.filter(
            memberships__enterprise=enterprise, is_active=True, groups__name=roles.ENTERPRISE.name
        )
        .order_by("pk")
        .first()
    )
    if member:
        return User.objects.get(pk=member.pk)
    user = _user(DEMO_APPLICANT.format(pk=enterprise.pk), roles.ENTERPRISE)
    Membership.objects.get_or_create(user=user, enterprise=enterprise)
    return User.objects.get(pk=user.pk)


def _experts() -> list[Expert]:
    """The active pool (the 科技计划 demo's experts when it ran), made here when it has fewer than three."""
    if Expert.objects.filter(active=True).count() < 3:
        for username, name, organisation, fields, keywords in DEMO_EXPERTS:
            user = User.objects.filter(username=username).first() if username else None
            Expert.objects.update_or_create(
                name=name,
                organisation=organisation,
                defaults={"user": user, "fields": fields, "keywords": keywords},
            )
    return list(Expert.objects.filter(active=True).order_by("pk"))


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    """A whole number of 百元 between low and high 万元, in yuan."""
    return Decimal(rng.randint(low * 100, high * 100)) * 100


@transaction.atomic
def load_demo(today: dt.date | None = None, seed: int = SEED) -> Report:
    today = today or timezone.localdate()
    if (
        TechContract.objects.filter(is_demo=True).exists()
        or TransformationProject.objects.filter(is_demo=True).exists()
    ):
        return Report(skipped=True)
    sellers = list(
        Enterprise.objects.filter(is_demo=True, status="active", park__isnull=False).order_by("pk")[:400]
    )
    if not sellers:
        raise DemoError("没有示例企业：请先运行 kechuang demo")
    rng = random.Random(seed)
    officer = _officer()
    report = Report()
    report.contracts = _contracts(rng, sellers, officer, today)
    report.projects, notes = _projects(rng, officer, today)
    report.notes += notes
    return report


# —— contracts ——————————————————————————————————————————————————————————————————————————————————————


def _contract_data(rng: random.Random, n: int, seller, signed: dt.date) -> dict:
    contract_type = rng.choice(ContractType.values)
    sub_type = rng.choice(list(SUB_TYPES[contract_type]))
    mode = rng.choice(
        [PaymentMode.INSTALMENTS, PaymentMode.INSTALMENTS, PaymentMode.LUMP_SUM, PaymentMode.ROYALTY_WITH_FEE]
        if contract_type in (ContractType.TRANSFER, ContractType.LICENCE)
        else [PaymentMode.INSTALMENTS, PaymentMode.INSTALMENTS, PaymentMode.LUMP_SUM]
    )
    total = _money(rng, 10, 2000)
    tech = (total * Decimal(rng.choice((70, 80, 90, 100))) / 100).quantize(Decimal("0.01"))
    if n % 11 == 5:
        buyer, country, region, buyer_uscc = FOREIGN_BUYER[0], FOREIGN_BUYER[1], "", ""
    else:
        buyer, region = BUYERS[n % len(BUYERS)]
        country, buyer_uscc = "CHN", make_code(f"91{region}MA1X{n:05d}"[:17])
    data = {
        "contract_no": f"SJ-HT-{signed.year}-{n:03d}",
        "name": f"{rng.choice(SUBJECTS)}{ContractType(contract_type).label}（示例）",
        "contract_type": contract_type,
        "sub_type": sub_type,
        "seller_region": "310117",
        "buyer_name": buyer,
        "buyer_uscc": buyer_uscc,
        "buyer_region": region,
        "buyer_country": country,
        "signed_on": signed,
        "valid_from": signed,
        "valid_to": signed + dt.timedelta(days=rng.choice((180, 365, 730))),
        "total_amount": total,
        "tech_amount": tech,
        "payment_mode": mode,
        "is_demo": True,
    }
    if isinstance(seller, tuple):
        data["seller_name"], data["seller_uscc"] = seller[0], make_code(seller[1])
    else:
        data["seller_name"], data["seller_uscc"] = seller.name, seller.uscc
    return data


def _contracts(rng: random.Random, sellers: list, officer: User, today: dt.date) -> int:
    start = dt.date(today.year - 1, 1, 10)
    span = (today - start).days
    plans = []
    for n in range(1, CONTRACTS + 1):
        seller = UNIVERSITY_SELLERS[n % 2] if n % 9 == 0 else sellers[rng.randrange(len(sellers))]
        registered = start + dt.timedelta(days=round(span * n / (CONTRACTS + 1)))
        signed = registered - dt.timedelta(days=rng.randint(5, 40))
        plans.append((n, seller, signed, registered))
    made = 0
    for n, seller, signed, registered in plans:
        contract = contracts.contract_create(_contract_data(rng, n, seller, signed), user=officer)
        made += 1
        fate = n % 10
        if fate == 3 and n > 10:  # waiting for the registry
            continue
        if fate == 7 and n < 20:
            contracts.contract_refuse(
                contract, user=officer, reason="合同标的为一般商品买卖，不属于技术合同（示例）"
            )
            continue
        contracts.contract_register(contract, user=officer, registered_on=registered, today=today)
        _plan(rng, contract, officer, today)
        if n == 12:
            contracts.contract_cancel(
                contract, user=officer, reason="当事人协议解除合同，申请注销登记（示例）"
            )
    return made


def _plan(rng: random.Random, contract: TechContract, officer: User, today: dt.date) -> None:
    total = contract.total_amount
    if contract.payment_mode == PaymentMode.LUMP_SUM:
        parts = [total]
    else:
        count = rng.randint(2, 4)
        shares = [Decimal(rng.randint(2, 5)) for _ in range(count)]
        parts = [(total * s / sum(shares)).quantize(Decimal("0.01")) for s in shares]
        parts[-1] = total - sum(parts[:-1])
    note = ""
    if contract.payment_mode in (PaymentMode.ROYALTY, PaymentMode.ROYALTY_WITH_FEE):
        parts = parts[:2]
        note = ROYALTY_NOTE
    rows = []
    due = contract.signed_on
    for part in parts:
        due = due + dt.timedelta(days=rng.randint(60, 200))
        rows.append({"due_date": due, "amount": part, "note": "预付入门费" if note and not rows else ""})
    milestones = contracts.payment_plan_set(contract, rows, note=note, user=officer)
    late = rng.random() < 0.25  # a buyer behind schedule: its first milestone due is not paid
    for number, m in enumerate(milestones):
        if m.due_date > today:
            break
        if late and number == len([x for x in milestones if x.due_date <= today]) - 1:
            if rng.random() < 0.5:
                contracts.payment_record(
                    m,
                    amount=(m.amount / 2).quantize(Decimal("0.01")),
                    paid_on=m.due_date,
                    user=officer,
                    today=today,
                )
            break
        contracts.payment_record(m, amount=m.amount, paid_on=m.due_date, user=officer, today=today)


# —— 高转项目 ——————————————————————————————————————————————————————————————————————————————————————————

# States the demo leaves its projects in, in order; a recognised project's recognition is `days` before today.
FATES = (
    ("recognised", 20),
    ("recognised", 45),
    ("recognised", 90),
    ("recognised", 150),
    ("recognised", 300),
    ("recognised", 420),
    ("recognised", 1200),  # its certificate has expired (3-year default validity)
    ("district_recommended", 10),
    ("district_recommended", 6),
    ("submitted", 4),
    ("submitted", 2),
    ("returned", 12),
    ("rejected", 30),
    ("draft", 0),
    ("draft", 0),
)


def _qualifying(applied: dt.date, used: set[int]) -> tuple[Enterprise, list[IPAsset]] | None:
    """A demo enterprise not used yet with IP that is in time on `applied` (第六条第（二）项)."""
    windows = eligibility.IP_WINDOWS
    for ip_type, years in windows.items():
        start = eligibility.years_before(applied, years)
        found = (
            IPAsset.objects.filter(
                enterprise__is_demo=True,
                enterprise__status="active",
                enterprise__park__isnull=False,
                ip_type=ip_type,
                status=IPStatus.VALID,
                grant_date__gte=start,
                grant_date__lte=applied,
            )
            .exclude(enterprise_id__in=used)
            .select_related("enterprise")
            .order_by("enterprise_id", "pk")
            .first()
        )
        if found is not None:
            ips = list(
                IPAsset.objects.filter(
                    enterprise=found.enterprise, ip_type__in=list(windows), status=IPStatus.VALID
                )
                .filter(grant_date__gte=eligibility.years_before(applied, 3), grant_date__lte=applied)
                .order_by("-grant_date")[:3]
            )
            return found.enterprise, ips
    return None


def _projects(rng: random.Random, officer: User, today: dt.date) -> tuple[int, list[str]]:
    experts = _experts()
    used: set[int] = set()
    made, notes = 0, []
    for number, ((fate, days), (product, field_code, detail)) in enumerate(
        zip(FATES, PROJECT_PRODUCTS, strict=True)
    ):
        recognised_on = today - dt.timedelta(days=days)
        applied = (
            recognised_on - dt.timedelta(days=rng.randint(40, 90))
            if fate == "recognised"
            else today - dt.timedelta(days=days)
        )
        chosen = _qualifying(applied, used)
        if chosen is None:
            notes.append(f"示例企业中没有 {applied} 前后时限内的知识产权，跳过“{product}”")
            continue
        enterprise, ips = chosen
        used.add(enterprise.pk)
        applicant = _applicant(enterprise)
        declared = fate != "draft" or number % 2 == 0
        project = transformation.project_save(
            None,
            enterprise=enterprise,
            data={
                "name": f"{product}（示例）",
                "product": product,
                "field": field_code,
                "field_detail": detail,
                "description": f"{enterprise.short_name or enterprise.name}自主研发的{product}，核心技术已取得知识产权保护，"
                "首次转化为样机并通过第三方检测。（示例）",
                "first_transformed_on": applied - dt.timedelta(days=rng.randint(30, 200)),
                "test_report_no": f"示例检测-{applied.year}-{number + 1:04d}",
                "no_infringement": declared,
                "no_accident": declared,
                "not_dishonest": declared,
                "is_demo": True,
            },
            ip_ids=[ip.pk for ip in ips],
            user=applicant,
        )
        made += 1
        if fate == "draft":
            continue
        transformation.project_submit(project, user=applicant, today=applied)
        if fate == "submitted":
            continue
        if fate == "returned":
            transformation.project_return(
                project, user=officer, reason="请补充第三方检测报告原件及首次转化证明（示例）"
            )
            continue
        transformation.exclusion_judge(
            project, exclusion=Exclusion.NONE, note="首次转化的新产品，尚未形成规模销售（示例）", user=officer
        )
        if fate == "rejected":
            transformation.project_reject(
                project, user=officer, reason="核心技术与知识产权关联度不足（示例）"
            )
            continue
        transformation.project_recommend(
            project, user=officer, opinion="材料齐全，符合认定条件，同意推荐（示例）"
        )
        free = [e for e in experts if not transformation.conflicts(e, project)]
        reviewers = free[:3] if fate == "recognised" else free[:2]
        for expert in reviewers:
            item = transformation.review_assign(project, expert, user=officer)
            if fate == "recognised" or expert.user_id is None:
                transformation.review_submit(
                    item,
                    scores={
                        "technology": rng.randint(20, 30),
                        "ip": rng.randint(16, 25),
                        "transformation": rng.randint(16, 25),
                        "benefit": rng.randint(12, 20),
                    },
                    opinion="技术先进，知识产权支撑充分，已实现首次转化，建议认定。（示例）",
                    recommend=True,
                    user=officer,
                )
        if fate == "recognised":
            transformation.project_recognise(
                project,
                certificate_no=f"示例高转-{recognised_on.year}-{number + 1:04d}",
                recognised_on=recognised_on,
                user=officer,
                today=today,
            )
    if len(experts) < 3:
        notes.append("专家库不足 3 人，已认定的示例项目可能不足")
    pending = TransformationReview.objects.filter(project__is_demo=True, state="assigned").count()
    if pending:
        notes.append(f"待评审的示例评审任务 {pending} 项（示例专家账号 expert 可在“我的评审”中办理）")
    return made, notes
