"""Writes of 高新技术成果转化项目认定 (沪科规〔2020〕8号): the enterprise's application (draft, submit), the
district's steps (return, the exclusions judgement, 区科委推荐), the expert review, and the recognition with
its certificate (or 不予认定).

Every refusal is a ValidationError whose Chinese message names the field, the value and what is allowed; each
function is one transaction, so nothing is written when one is raised. State moves go through the workflow
engine (kechuang/recognitions/workflows.py), which logs who, when and why.

Expert review reuses the conflict rule of kechuang/projects/review.py (回避): an expert whose organisation is the
applicant (same 统一社会信用代码 or name) or who has a recorded conflict with the applying enterprise may not be
assigned, may not review and does not see the project; an expert who declares a conflict withdraws and the
conflict is recorded against the enterprise (as for 科技计划 applications). The score sheet (REVIEW_SHEET) is the
platform's: the 办法 sets no scoring (qualification-rules.md §6, 待核实).

The certificate's validity is config.certificate_years() (default 3 years, 待核实): valid until the day before the
anniversary of the recognition date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from kechuang.core import parsing
from kechuang.enterprises.choices import HitechField
from kechuang.enterprises.models import Enterprise, IPAsset
from kechuang.projects import review
from kechuang.projects.models import ConflictKind, Expert, ExpertConflict
from kechuang.recognitions import config
from kechuang.recognitions import workflows as wf
from kechuang.recognitions.choices import Exclusion, ReviewState
from kechuang.recognitions.models import TransformationProject, TransformationReview
from kechuang.workflows import engine

EDITABLE_STATES = ("draft", "returned")
DISTRICT_STATES = ("submitted", "district_recommended")  # the district may judge, assign experts
REVIEW_SHEET = [
    {"key": "technology", "label": "技术水平与创新性", "max": 30, "weight": 30},
    {"key": "ip", "label": "知识产权对核心技术的支撑", "max": 25, "weight": 25},
    {"key": "transformation", "label": "转化程度（样品、样机或服务）", "max": 25, "weight": 25},
    {"key": "benefit", "label": "市场前景与经济社会效益", "max": 20, "weight": 20},
]
REVIEW_SHEET_NOTE = "评审表为平台设定（沪科规〔2020〕8号 未规定评分办法，待核实）"
TEXT_FIELDS = {
    "name": ("项目名称", 200, True),
    "product": ("产品（服务）名称", 200, True),
    "field_detail": ("细分领域", 100, False),
    "test_report_no": ("第三方检测报告编号", 60, False),
}
DECLARATIONS = ("no_infringement", "no_accident", "not_dishonest")


def valid_until(recognised_on: dt.date, years: int | None = None) -> dt.date:
    """The last valid day: the day before the `years`-th anniversary (29 February → 1 March's eve)."""
    years = config.certificate_years() if years is None else years
    try:
        anniversary = recognised_on.replace(year=recognised_on.year + years)
    except ValueError:
        anniversary = recognised_on.replace(year=recognised_on.year + years, month=3, day=1)
    return anniversary - dt.timedelta(days=1)


# —— the application ————————————————————————————————————————————————————————————————————————————————


def project_errors(enterprise: Enterprise, data: dict[str, Any], ip_ids) -> tuple[dict, dict, list]:
    errors: dict[str, list[str]] = {}
    parsed: dict[str, Any] = {}
    for field, (label, limit, required) in TEXT_FIELDS.items():
        value = parsing.text(data.get(field))
        if required and not value:
            errors.setdefault(field, []).append(f"{label}必须填写")
        elif len(value) > limit:
            errors.setdefault(field, []).append(f"{label}“{value[:20]}…”超过 {limit} 个字符")
        parsed[field] = value
    parsed["description"] = parsing.text(data.get("description"))
    field = parsing.text(data.get("field"))
    if field and field not in HitechField.values:
        allowed = "、".join(f"{k} {v}" for k, v in HitechField.choices)
        errors.setdefault("field", []).append(
            f"高新技术领域“{field}”不在《国家重点支持的高新技术领域》中，可选：{allowed}"
        )
    parsed["field"] = field
    first = data.get("first_transformed_on")
    if first in (None, ""):
        parsed["first_transformed_on"] = None
    else:
        parsed["first_transformed_on"] = parsing.collect(
            errors, "first_transformed_on", parsing.date, first, "首次转化日期"
        )
        today = timezone.localdate()
        if parsed["first_transformed_on"] and parsed["first_transformed_on"] > today:
            errors.setdefault("first_transformed_on", []).append(
                f"首次转化日期 {parsed['first_transformed_on']} 晚于今天 {today}"
            )
    for name in DECLARATIONS:
        parsed[name] = bool(data.get(name))
    ids = [int(i) for i in (ip_ids or [])]
    ips = list(IPAsset.objects.filter(pk__in=ids))
    foreign = [ip for ip in ips if ip.enterprise_id != enterprise.pk]
    for ip in foreign:
        errors.setdefault("core_ip", []).append(
            f"知识产权“{ip.get_ip_type_display()} {ip.number}”不属于申请单位{enterprise.name}，"
            "核心知识产权须为申请单位拥有"
        )
    missing = set(ids) - {ip.pk for ip in ips}
    if missing:
        errors.setdefault("core_ip", []).append(f"知识产权 {sorted(missing)} 不存在")
    return errors, parsed, ips


@transaction.atomic
def project_save(
    project: TransformationProject | None,
    *,
    enterprise: Enterprise | None = None,
    data: dict[str, Any],
    ip_ids=None,
    user,
) -> TransformationProject:
    """Create a draft (project None, for `enterprise`) or change a draft or returned project; `ip_ids` (the core IP
    assets) replace the project's, or leave them as they are when None."""
    if project is not None:
        project = (
            TransformationProject.objects.select_for_update(of=("self",))
            .select_related("enterprise", "workflow")
            .get(pk=project.pk)
        )
        if project.state not in EDITABLE_STATES:
            raise ValidationError(
                {"state": f"项目当前状态为“{engine.state_label(project)}”，只有草稿或退回修改的项目可以修改"}
            )
        enterprise = project.enterprise
    if enterprise is None:
        raise ValidationError({"enterprise": "须选择申请单位"})
    if ip_ids is None:
        ip_ids = list(project.core_ip.values_list("pk", flat=True)) if project is not None else []
    errors, parsed, ips = project_errors(enterprise, data, ip_ids)
    if errors:
        raise ValidationError(errors)
    if project is None:
        project = TransformationProject(enterprise=enterprise, created_by=parsing.actor(user))
        project.is_demo = bool(data.get("is_demo"))
        engine.start(project, wf.PROJECT)
    for name, value in parsed.items():
        setattr(project, name, value)
    parsing.history_user(project, user).save()
    project.core_ip.set(ips)
    return project


def _locked(project: TransformationProject) -> TransformationProject:
    return (
        TransformationProject.objects.select_for_update(of=("self",))
        .select_related("enterprise", "workflow")
        .get(pk=project.pk)
    )


def _sync(target: TransformationProject, source: TransformationProject) -> TransformationProject:
    for name in (
        "state",
        "applied_on",
        "submitted_at",
        "district_opinion",
        "certificate_no",
        "recognised_on",
        "valid_until",
        "decision_note",
        "exclusion",
        "exclusion_note",
    ):
        setattr(target, name, getattr(source, name))
    return target


@transaction.atomic
def project_submit(
    project: TransformationProject, *, user, today: dt.date | None = None
) -> TransformationProject:
    """The enterprise submits (or resubmits after a return): the application date is stamped, then the
    workflow checks the applicant and that no condition is "not met" (the IP windows counted from this date)."""
    locked = _locked(project)
    name = wf.RESUBMIT if locked.state == "returned" else wf.SUBMIT
    locked.applied_on = today or timezone.localdate()
    locked.submitted_at = timezone.now()
    parsing.history_user(locked, user).save(update_fields=["applied_on", "submitted_at"])
    engine.take(locked, name, user, f"申请日期 {locked.applied_on}")
    return _sync(project, locked)


def _step(project, name: str, *, user, reason: Any, required: str = "", **fields) -> TransformationProject:
    reason = parsing.text(reason)
    if required and not reason:
        raise ValidationError({"reason": required})
    with transaction.atomic():
        locked = _locked(project)
        if fields:
            for key, value in fields.items():
                setattr(locked, key, value)
            parsing.history_user(locked, user).save(update_fields=list(fields))
        engine.take(locked, name, user, reason)
    return _sync(project, locked)


def project_return(project: TransformationProject, *, user, reason: Any) -> TransformationProject:
    return _step(project, wf.RETURN, user=user, reason=reason, required="退回修改须说明原因")


def project_recommend(project: TransformationProject, *, user, opinion: Any = "") -> TransformationProject:
    """区科委推荐 (the district accepts and recommends to 市科委), with its opinion."""
    opinion = parsing.text(opinion)
    return _step(project, wf.RECOMMEND, user=user, reason=opinion, district_opinion=opinion)


def project_reject(project: TransformationProject, *, user, reason: Any) -> TransformationProject:
    reason = parsing.text(reason)
    return _step(
        project, wf.REJECT, user=user, reason=reason, required="不予认定须说明原因", decision_note=reason
    )


@transaction.atomic
def exclusion_judge(
    project: TransformationProject, *, exclusion: Any, note: Any = "", user
) -> TransformationProject:
    """The officer's judgement of 不予认定情形; any exclusion (or 不属于) needs its reasoning noted."""
    if not user.has_perm(wf.DISTRICT):
        raise ValidationError({"exclusion": "只有科委业务人员可以判断不予认定情形"})
    locked = _locked(project)
    if locked.state not in DISTRICT_STATES:
        raise ValidationError(
            {"state": f"项目当前状态为“{engine.state_label(locked)}”，只有已提交或已推荐的项目可以判断"}
        )
    exclusion = parsing.text(exclusion)
    labels = dict(Exclusion.choices)
    if exclusion not in labels:
        allowed = "、".join(f"{v}（{k}）" for k, v in labels.items())
        raise ValidationError({"exclusion": f"不予认定情形“{exclusion}”不存在，可选：{allowed}"})
    note = parsing.text(note)
    if exclusion != Exclusion.NOT_JUDGED and not note:
        raise ValidationError({"exclusion_note": "请写明判断依据（如产品的新颖性、销售规模、产品类别）"})
    if len(note) > 300:
        raise ValidationError({"exclusion_note": "判断说明超过 300 个字符"})
    locked.exclusion, locked.exclusion_note = exclusion, note
    parsing.history_user(locked, user).save(update_fields=["exclusion", "exclusion_note"])
    return _sync(project, locked)


def project_recognise(
    project: TransformationProject,
    *,
    certificate_no: Any,
    recognised_on: Any,
    user,
    note: Any = "",
    today: dt.date | None = None,
) -> TransformationProject:
    """认定: the certificate number (unique), the recognition date and the validity it gives; then the workflow
    checks the conditions, the exclusions judgement and the expert reviews."""
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    number = parsing.code(certificate_no)
    if not number:
        errors.setdefault("certificate_no", []).append("证书编号必须填写")
    elif len(number) > 40:
        errors.setdefault("certificate_no", []).append(f"证书编号“{number}”超过 40 个字符")
    on = parsing.collect(errors, "recognised_on", parsing.date, recognised_on, "认定日期")
    if on and on > today:
        errors.setdefault("recognised_on", []).append(f"认定日期 {on} 晚于今天 {today}")
    if on and project.applied_on and on < project.applied_on:
        errors.setdefault("recognised_on", []).append(f"认定日期 {on} 早于申请日期 {project.applied_on}")
    if number:
        taken = TransformationProject.objects.filter(certificate_no=number).exclude(pk=project.pk).first()
        if taken is not None:
            errors.setdefault("certificate_no", []).append(
                f"证书编号 {number} 已用于项目“{taken.name}”（{taken.enterprise.name}），证书编号不能重复"
            )
    if errors:
        raise ValidationError(errors)
    try:
        return _step(
            project,
            wf.RECOGNISE,
            user=user,
            reason=f"证书编号 {number}，有效期至 {valid_until(on)}",
            certificate_no=number,
            recognised_on=on,
            valid_until=valid_until(on),
            decision_note=parsing.text(note),
        )
    except IntegrityError:
        raise ValidationError({"certificate_no": f"证书编号 {number} 已被同时登记，请核对"}) from None


def project_take(
    project: TransformationProject, name: str, *, user, reason: str = ""
) -> TransformationProject:
    """A step as the workflow inbox takes it, through the service that does what the step needs."""
    if name in (wf.SUBMIT, wf.RESUBMIT):
        return project_submit(project, user=user)
    if name == wf.RETURN:
        return project_return(project, user=user, reason=reason)
    if name == wf.RECOMMEND:
        return project_recommend(project, user=user, opinion=reason)
    if name == wf.REJECT:
        return project_reject(project, user=user, reason=reason)
    return engine.take(project, name, user, reason)


# —— expert review ——————————————————————————————————————————————————————————————————————————————————


@dataclass
class _Applicant:
    """What review.ConflictIndex reads of an application: the applying enterprise (pk None: no 科技计划
    application, so no withdrawal of one to look up)."""

    enterprise: Enterprise
    pk: None = None

    @property
    def enterprise_id(self) -> int:
        return self.enterprise.pk


def conflicts(expert: Expert, project: TransformationProject) -> list[str]:
    """Why `expert` may not review `project`, in Chinese (empty when it may): review.py's rule (a) and (b)."""
    applicant = _Applicant(project.enterprise)
    return review.ConflictIndex([expert], [applicant]).reasons(expert, applicant)


def sheet():
    return review.criteria(SimpleNamespace(score_sheet=REVIEW_SHEET, title="高转项目评审表"))


@transaction.atomic
def review_assign(project: TransformationProject, expert: Expert, *, user) -> TransformationReview:
    """Invite an expert to review the project (after it is submitted, before the result)."""
    locked = _locked(project)
    if locked.state not in DISTRICT_STATES:
        raise ValidationError(
            {
                "state": f"项目当前状态为“{engine.state_label(locked)}”，只有已提交或已推荐的项目可以分配评审专家"
            }
        )
    if not expert.active:
        raise ValidationError({"expert": f"专家{expert.name}已不在库，不能分配"})
    reasons = conflicts(expert, locked)
    if reasons:
        raise ValidationError(
            {"expert": f"专家{expert.name}与“{locked.name}”存在回避关系：{'；'.join(reasons)}，不能分配"}
        )
    existing = TransformationReview.objects.filter(project=locked, expert=expert).first()
    if existing is not None:
        raise ValidationError(
            {
                "expert": f"专家{expert.name}已在“{locked.name}”的评审名单中（{existing.get_state_display()}），不能重复分配"
            }
        )
    item = TransformationReview(project=locked, expert=expert, assigned_by=parsing.actor(user))
    try:
        with transaction.atomic():
            parsing.history_user(item, user).save()
    except IntegrityError:
        raise ValidationError({"expert": f"专家{expert.name}已被同时分配到该项目"}) from None
    return item


def _may_act_for(item: TransformationReview, user) -> bool:
    """The expert's own account, or an officer who keeps the reviews (代为办理)."""
    return bool(
        getattr(user, "is_authenticated", False)
        and (item.expert.user_id == user.pk or user.has_perm("recognitions.change_transformationreview"))
    )


def _locked_review(item: TransformationReview) -> TransformationReview:
    return (
        TransformationReview.objects.select_for_update(of=("self",))
        .select_related("expert", "project__enterprise", "project__workflow")
        .get(pk=item.pk)
    )


@transaction.atomic
def review_submit(
    item: TransformationReview, *, scores: dict, opinion: Any, recommend: Any, user
) -> TransformationReview:
    """The expert's scores (REVIEW_SHEET, each 0..max), opinion and recommendation, once."""
    current = _locked_review(item)
    if not _may_act_for(current, user):
        raise ValidationError({"expert": "只有受邀专家本人可以提交评审意见"})
    if current.state == ReviewState.WITHDRAWN:
        raise ValidationError({"state": "已申明回避退出本项目评审，不能评审"})
    reasons = conflicts(current.expert, current.project)
    if reasons:
        raise ValidationError({"expert": f"存在回避关系：{'；'.join(reasons)}，不能评审"})
    if current.state == ReviewState.SUBMITTED:
        when = (
            timezone.localtime(current.submitted_at).strftime("%Y-%m-%d %H:%M")
            if current.submitted_at
            else ""
        )
        raise ValidationError({"state": f"已于 {when} 提交评审意见，不能重复提交"})
    if current.project.state not in DISTRICT_STATES:
        raise ValidationError({"state": f"项目当前状态为“{engine.state_label(current.project)}”，评审已结束"})
    criteria = sheet()
    errors: dict[str, Any] = dict(review.score_errors(criteria, scores or {}))
    opinion = parsing.text(opinion)
    if not opinion:
        errors["opinion"] = "评审意见必须填写"
    if recommend not in (True, False):
        errors["recommend"] = "请选择是否建议认定"
    if errors:
        raise ValidationError(errors)
    current.scores = {c.key: str(Decimal(str(scores[c.key]).strip())) for c in criteria}
    current.total = review.weighted_total(criteria, scores)
    current.opinion = opinion
    current.recommend = recommend
    current.state = ReviewState.SUBMITTED
    current.submitted_at = timezone.now()
    parsing.history_user(current, user).save()
    return current


@transaction.atomic
def review_withdraw(item: TransformationReview, *, reason: Any, user) -> TransformationReview:
    """The expert declares a conflict: the review becomes 回避退出 with the reason, and an ExpertConflict of kind
    本人申明回避 is recorded against the applying enterprise (so the expert is not assigned to its projects or
    proposed for its 科技计划 applications)."""
    current = _locked_review(item)
    reason = parsing.text(reason)
    if not _may_act_for(current, user):
        raise ValidationError({"expert": "只有受邀专家本人可以申明回避"})
    if not reason:
        raise ValidationError({"reason": "申明回避须说明原因"})
    if len(reason) > 300:
        raise ValidationError({"reason": f"回避原因不能超过 300 个字（现 {len(reason)} 个字）"})
    if current.state != ReviewState.ASSIGNED:
        raise ValidationError({"state": f"评审状态为“{current.get_state_display()}”，不能申明回避"})
    current.state = ReviewState.WITHDRAWN
    current.opinion = reason
    parsing.history_user(current, user).save(update_fields=["state", "opinion"])
    ExpertConflict.objects.get_or_create(
        expert=current.expert,
        enterprise=current.project.enterprise,
        kind=ConflictKind.DECLARED,
        defaults={"note": f"评审高转项目“{current.project.name}”时申明：{reason}"[:300]},
    )
    return current


def assignable_experts(project: TransformationProject) -> list[tuple[Expert, list[str]]]:
    """The experts in the pool with their conflicts with the project (empty when they may review), those
    already on it left out."""
    on = set(project.reviews.values_list("expert_id", flat=True))
    experts = [e for e in Expert.objects.filter(active=True).order_by("name", "pk") if e.pk not in on]
    applicant = _Applicant(project.enterprise)
    index = review.ConflictIndex(experts, [applicant])
    blocked = index.blocked(applicant)
    return [(e, index.reasons(e, applicant) if e.pk in blocked else []) for e in experts]
