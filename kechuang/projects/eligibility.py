"""申报条件: named eligibility conditions a call lists (`Call.eligibility` = [{"rule", "label"}]), checked for an
enterprise BEFORE it starts an application, each three-valued like the rules engine:

    met True   满足       the registry shows it (e.g. a 高新技术企业 certificate in force on the date)
    met False  不满足     the registry shows it is not so (no certificate in force, deregistered, …)
    met None   待核实     the registry cannot tell (level of a 专精特新 certificate not recorded, no location
                          recorded, no tiering assessment yet); formal review (形式审查) verifies it by hand

An enterprise may start and submit when no condition is "not met"; unknown ones are listed for the
applicant and the reviewer, never silently taken as met or as not met.

Conditions reuse the registry (Qualification.valid_on: certificates 有效期内 on a date) and the stored
assessments of the rules engine (tiering runs); nothing here writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from django.utils import timezone

from kechuang.enterprises.choices import EnterpriseStatus, QualificationKind, QualificationLevel
from kechuang.enterprises.models import Enterprise, Qualification


class Result(NamedTuple):
    rule: str
    label: str
    met: bool | None  # True 满足, False 不满足, None 待核实
    reason: str

    @property
    def status_text(self) -> str:
        return {True: "满足", False: "不满足", None: "待核实"}[self.met]


@dataclass(frozen=True)
class Context:
    call: object  # projects.models.Call
    enterprise: Enterprise
    on: date


Check = Callable[[Context], tuple[bool | None, str]]


class Results(list):
    """The list of Result, with the verdict the `eligible` guard (projects/guards.py) reads."""

    @property
    def eligible(self) -> bool:
        """No condition is "not met" (unknown ones go to formal review)."""
        return not any(r.met is False for r in self)

    @property
    def reasons(self) -> list[str]:
        return [f"不满足“{r.label}”：{r.reason}" for r in self if r.met is False]

    @property
    def unknown(self) -> list[Result]:
        return [r for r in self if r.met is None]


@dataclass(frozen=True)
class Rule:
    code: str
    label: str  # the condition as a call states it
    check: Check
    source: str = ""  # what the registry or engine reads, shown to officers in the call builder


def _certificate(enterprise: Enterprise, kind: str, on: date) -> tuple[bool, str]:
    """Holds a certificate of `kind` in force on `on` (Qualification.valid_on)."""
    name = QualificationKind(kind).label
    held = Qualification.objects.filter(enterprise=enterprise, kind=kind)
    valid = held.valid_on(on).order_by("-issue_date").first()
    if valid is not None:
        until = f"有效期至 {valid.expiry_date:%Y-%m-%d}" if valid.expiry_date else "长期有效"
        number = f"证书编号 {valid.certificate_no}，" if valid.certificate_no else ""
        return True, f"持有{name}证书（{number}{valid.issue_date:%Y-%m-%d} 发证，{until}）"
    last = held.filter(issue_date__lte=on).order_by("-issue_date").first()
    if last is not None and last.expiry_date:
        return False, f"未持有有效期内的{name}证书：最近一张已于 {last.expiry_date:%Y-%m-%d} 到期"
    return False, f"未持有有效期内的{name}证书"


def hnte_valid(ctx: Context) -> tuple[bool | None, str]:
    return _certificate(ctx.enterprise, QualificationKind.HNTE, ctx.on)


def tech_sme_valid(ctx: Context) -> tuple[bool | None, str]:
    return _certificate(ctx.enterprise, QualificationKind.TECH_SME, ctx.on)


def registered_in_songjiang(ctx: Context) -> tuple[bool | None, str]:
    enterprise = ctx.enterprise
    if enterprise.status != EnterpriseStatus.ACTIVE:
        return False, f"企业状态为“{enterprise.get_status_display()}”，不是存续企业"
    if enterprise.park_id:
        return True, f"存续企业，所在园区：{enterprise.park}"
    if "松江" in (enterprise.address or ""):
        return True, f"存续企业，注册地址：{enterprise.address}"
    return None, "企业库未记录所在园区，注册地址也未显示在松江区，请在形式审查时核实营业执照"


SRDI_LEVELS = (QualificationLevel.MUNICIPAL, QualificationLevel.NATIONAL)


def srdi(ctx: Context) -> tuple[bool | None, str]:
    """专精特新: a 市级 or 国家级 专精特新中小企业 certificate, or 专精特新“小巨人” (national by definition)."""
    valid = Qualification.objects.filter(enterprise=ctx.enterprise).valid_on(ctx.on)
    giant = valid.filter(kind=QualificationKind.LITTLE_GIANT).order_by("-issue_date").first()
    if giant is not None:
        return True, f"持有有效期内的专精特新“小巨人”企业证书（{giant.issue_date:%Y-%m-%d} 发证）"
    certificates = list(valid.filter(kind=QualificationKind.SPECIALISED_SME).order_by("-issue_date"))
    for certificate in certificates:
        if certificate.level in SRDI_LEVELS:
            return True, (
                f"持有有效期内的{certificate.get_level_display()}专精特新中小企业证书"
                f"（{certificate.issue_date:%Y-%m-%d} 发证）"
            )
    if any(not c.level for c in certificates):
        return None, "持有有效期内的专精特新中小企业证书，但企业库未登记其级别，请核实是否为市级及以上"
    if certificates:
        return False, f"只持有{certificates[0].get_level_display()}专精特新证书，要求市级及以上"
    return False, "未持有有效期内的市级及以上专精特新中小企业证书"


def no_open_application_in_programme(ctx: Context) -> tuple[bool | None, str]:
    """No application of this enterprise in ANOTHER call of the programme family (the root programme and its
    sub-programmes) that is submitted and still in flight (a state past its workflow's initial 草稿 from which
    a transition remains: 已提交, 退回修改, 评审中, 立项后在研…). Applications of the same call are not counted,
    so an application never blocks itself when the guard checks it again at submission or formal review."""
    from kechuang.projects.models import Application, Programme

    root = ctx.call.programme
    while root.parent_id:
        root = root.parent
    family, frontier = [root.pk], [root.pk]
    while frontier:
        frontier = list(Programme.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        family += frontier
    others = (
        Application.objects.filter(enterprise=ctx.enterprise, call__programme_id__in=family)
        .exclude(call=ctx.call)
        .select_related("workflow", "call")
    )
    for other in others:
        if other.state != other.workflow.definition.get("initial") and in_flight(other):
            return False, (
                f"在“{root.name}”计划内已有在审或在研项目：{other.call}《{other.title}》"
                f"（状态：{other.workflow.definition['states'].get(other.state, other.state)}）"
            )
    return True, f"在“{root.name}”计划的其他批次中无在审或在研项目"


def in_flight(obj) -> bool:
    """Not in a final state: its workflow version has a transition out of the object's state."""
    return any(obj.state in t["from"] for t in obj.workflow.definition["transitions"])


def hnte_assessed(ctx: Context) -> tuple[bool | None, str]:
    """The latest finished tiering run (rules engine, stored) on or before `on` finds the 高企 conditions met."""
    from kechuang.tiering.models import Assessment, AssessmentRun

    run = (
        AssessmentRun.objects.filter(status=AssessmentRun.Status.DONE, assessed_on__lte=ctx.on)
        .order_by("-assessed_on", "-created_at")
        .first()
    )
    if run is None:
        return None, "尚无梯度评估结果，无法判断"
    found = Assessment.objects.filter(run=run, enterprise=ctx.enterprise, area="hnte").first()
    if found is None:
        return None, f"{run.assessed_on:%Y-%m-%d} 的梯度评估未包含该企业"
    if found.status == "met":
        return True, f"{run.assessed_on:%Y-%m-%d} 梯度评估：符合高新技术企业认定条件"
    if found.status == "not_met":
        return False, f"{run.assessed_on:%Y-%m-%d} 梯度评估：有 {found.unmet} 项高新技术企业认定条件不满足"
    return None, f"{run.assessed_on:%Y-%m-%d} 梯度评估：有 {found.unknown} 项条件缺少数据，无法判断"


RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        Rule(
            "hnte_valid",
            "持有有效期内的高新技术企业证书",
            hnte_valid,
            "企业库·资质（高新技术企业，有效期内）",
        ),
        Rule(
            "tech_sme_valid",
            "已入库科技型中小企业（有效期内）",
            tech_sme_valid,
            "企业库·资质（科技型中小企业）",
        ),
        Rule(
            "registered_in_songjiang",
            "在松江区注册、存续经营的企业",
            registered_in_songjiang,
            "企业库·企业状态、所在园区、注册地址",
        ),
        Rule(
            "srdi",
            "市级及以上专精特新中小企业（含专精特新“小巨人”）",
            srdi,
            "企业库·资质（专精特新，级别）",
        ),
        Rule(
            "no_open_application_in_programme",
            "本计划（含子计划）其他批次中无在审或在研项目",
            no_open_application_in_programme,
            "本平台的项目申报记录",
        ),
        Rule(
            "hnte_assessed",
            "符合高新技术企业认定条件（最近一次梯度评估）",
            hnte_assessed,
            "梯度培育·最近一次已完成的评估",
        ),
    )
}


def check(call, enterprise: Enterprise, on: date | None = None) -> Results:
    """Each condition the call lists, in its order, with whether `enterprise` meets it on `on` (default today)
    and why: a list of Result (rule, label, met, reason); `.eligible` and `.reasons` give the verdict. A rule
    code the code does not know is reported as 待核实, never skipped."""
    on = on or timezone.localdate()
    ctx = Context(call, enterprise, on)
    results = Results()
    for item in call.eligibility or []:
        code = item.get("rule", "") if isinstance(item, dict) else str(item)
        rule = RULES.get(code)
        label = (item.get("label") if isinstance(item, dict) else "") or (rule.label if rule else code)
        if rule is None:
            results.append(Result(code, label, None, f"未知的申报条件代码 {code!r}，请业务人员核实"))
            continue
        met, reason = rule.check(ctx)
        results.append(Result(code, label, met, reason))
    return results


def refusal(results: Results) -> str:
    """The Chinese reason an enterprise may not apply ("" when it may): every unmet condition."""
    return "不符合申报条件：" + "；".join(results.reasons) if not results.eligible else ""
