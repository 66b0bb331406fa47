"""Writes of applications (项目申报): start (call open, enterprise eligible), save a draft (partial allowed, every
value checked against its field), the budget by 国办发〔2021〕32号 category (requested_amount = Σ subsidies),
attachments (type and size limits), submit through the workflow engine, and 形式审查 (formal review: pass, or
return with reasons).

Submission is decided by the guards of the "submit" / "resubmit" transitions (projects/workflows.py,
projects/guards.py): call_open, before_deadline, complete_form (→ `form_errors` here: required fields of the
VISIBLE sections only; a hidden conditional section requires nothing), within_cap (requested ≤ 单项资助上限,
equal passes) and eligible (→ eligibility.check: no condition "not met"). `submit_problems` lists every guard's
refusal at once for the page.

Every problem is a Chinese message naming the field and the value; nothing is saved when any is found.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from kechuang.enterprises.models import Enterprise, Membership
from kechuang.projects import calls, eligibility
from kechuang.projects.models import Application, Attachment, BudgetCategory, BudgetLine, Call
from kechuang.workflows import engine
from kechuang.workflows.models import TransitionLog, Workflow

WORKFLOW = "projects.application"
# The application's transitions this module takes (declared in projects/workflows.py): the applicant's submit
# (from 草稿) and resubmit (from 退回修改), formal review's return and pass.
SUBMITS = ("submit", "resubmit")
RETURN, PASS = "return", "pass_formal"

ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
ATTACHMENT_MAX_COUNT = 30
# Extension → accepted leading bytes (Office Open XML is a zip; the old Office formats are OLE2).
ATTACHMENT_TYPES = {
    ".pdf": (b"%PDF",),
    ".doc": (b"\xd0\xcf\x11\xe0",),
    ".docx": (b"PK\x03\x04",),
    ".xls": (b"\xd0\xcf\x11\xe0",),
    ".xlsx": (b"PK\x03\x04",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
}
ATTACHMENT_RULE = (
    "只接受 PDF、Word（doc/docx）、Excel（xls/xlsx）、JPG、PNG 文件，单个文件不超过 20MB，每份申报最多 30 个"
)
TRUE_TEXT = {"true", "1", "yes", "on", "是", "y"}
FALSE_TEXT = {"false", "0", "no", "off", "否", "n"}


def _when(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


# --- access ---------------------------------------------------------------------------------------------


def applications_visible_to(user) -> QuerySet[Application]:
    """Applications of the enterprises the user may see: an enterprise user its own, officers all; none without
    projects.view_application (park operators, experts, …)."""
    if not user.is_authenticated or not user.has_perm("projects.view_application"):
        return Application.objects.none()
    return Application.objects.filter(enterprise__in=Enterprise.objects.visible_to(user).values("pk"))


def application_for_user(user, pk, *, action: str = "view") -> Application:
    """Application `pk` if `user` may `action` it: out of scope is 404 (its existence does not leak), in scope
    without the permission is 403."""
    try:
        application = (
            applications_visible_to(user)
            .select_related("call__programme", "call__workflow", "enterprise", "workflow")
            .get(pk=pk)
        )
    except (Application.DoesNotExist, ValueError, TypeError):
        raise Http404("申报不存在或无权查看") from None
    if not user.has_perm(f"projects.{action}_application"):
        raise PermissionDenied("无权修改该申报" if action == "change" else "无权查看该申报")
    return application


def acting_enterprises(user) -> QuerySet[Enterprise]:
    """The enterprises the user applies for: those of its enterprise memberships."""
    if not user.is_authenticated:
        return Enterprise.objects.none()
    own = Membership.objects.filter(user=user, enterprise__isnull=False).values("enterprise_id")
    return Enterprise.objects.visible_to(user).filter(pk__in=own)


# --- the form -------------------------------------------------------------------------------------------


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or (isinstance(value, str) and not value.strip())


def clean_value(field: dict, raw: Any) -> tuple[Any, str]:
    """(stored value, "") or (None, Chinese error) for one field; an empty value is (None, "")."""
    kind, label = field["type"], field["label"]
    if kind == "multichoice":
        items = raw if isinstance(raw, list) else ([] if _empty(raw) else [raw])
        items = [str(i).strip() for i in items if not _empty(i)]
        if not items:
            return None, ""
        wrong = [i for i in items if i not in field["choices"]]
        if wrong:
            return None, f"“{label}”的选项 {'、'.join(wrong)} 不在可选范围（{'、'.join(field['choices'])}）"
        return [c for c in field["choices"] if c in items], ""
    if kind == "boolean":
        if isinstance(raw, bool):
            return raw, ""
        if _empty(raw):
            return None, ""
        text = str(raw).strip().lower()
        if text in TRUE_TEXT:
            return True, ""
        if text in FALSE_TEXT:
            return False, ""
        return None, f"“{label}”须为是或否，收到“{raw}”"
    if _empty(raw):
        return None, ""
    if isinstance(raw, list):
        return None, f"“{label}”只能填一个值"
    text = str(raw).strip()
    if kind in calls.TEXT_TYPES:
        limit = field.get("max_length")
        if limit and len(text) > limit:
            return None, f"“{label}”最多 {limit} 字，现为 {len(text)} 字"
        return text, ""
    if kind in ("number", "money"):
        try:
            number = Decimal(text.replace(",", ""))
        except InvalidOperation:
            return None, f"“{label}”须为数字，收到“{raw}”"
        if not number.is_finite():
            return None, f"“{label}”须为有限的数字，收到“{raw}”"
        if kind == "money":
            if number < 0:
                return None, f"“{label}”不能为负数，收到 {number}"
            if number != number.quantize(Decimal("0.01")):
                return None, f"“{label}” {number} 最多两位小数（单位：元）"
        return format(number, "f"), ""
    if kind == "date":
        try:
            return dt.date.fromisoformat(text).isoformat(), ""
        except ValueError:
            return None, f"“{label}”须为日期（如 2026-06-30），收到“{raw}”"
    if kind == "choice":
        if text not in field["choices"]:
            return None, f"“{label}”的“{text}”不在可选范围（{'、'.join(field['choices'])}）"
        return text, ""
    if kind == "file":
        return None, f"“{label}”是附件字段，请上传文件"
    return None, f"“{label}”的类型 {kind} 不支持"


def visible_sections(form: list, data: dict) -> list[dict]:
    """The sections shown for `data`: a conditional section when the field it names is shown and has its value
    (sections only depend on earlier ones, so one pass decides)."""
    shown, shown_fields = [], set()
    for section in form:
        condition = section.get("show_if")
        if condition:
            if condition["field"] not in shown_fields or data.get(condition["field"]) != condition["equals"]:
                continue
        shown.append(section)
        shown_fields |= {f["key"] for f in section["fields"]}
    return shown


def form_errors(application: Application) -> dict[str, str]:
    """{field key: Chinese message} of what keeps the form from being submitted: a required field of a visible
    section left empty, or a value its field no longer accepts. Hidden sections require nothing."""
    data = application.data or {}
    attachment_ids = None
    errors: dict[str, str] = {}
    for section in visible_sections(application.call.form, data):
        for field in section["fields"]:
            key = field["key"]
            value = data.get(key)
            if field["type"] == "file":
                if attachment_ids is None:
                    attachment_ids = set(application.attachments.values_list("pk", flat=True))
                if value not in attachment_ids:
                    value = None
            elif not _empty(value):
                _, problem = clean_value(field, value)
                if problem:
                    errors[key] = problem
                    continue
            if _empty(value) and field.get("required"):
                errors[key] = f"“{section['title']}”中的“{field['label']}”为必填项"
    return errors


# --- writes ---------------------------------------------------------------------------------------------


def submit_transition(application: Application) -> dict | None:
    """The applicant's submit transition from the application's state under its version (None: none)."""
    for t in application.workflow.definition["transitions"]:
        if t["name"] in SUBMITS and application.state in t["from"]:
            return t
    return None


def editable(application: Application) -> bool:
    """The applicant may change it: it is in a state it can be submitted from (草稿, 退回修改)."""
    return submit_transition(application) is not None


def _require_editable(application: Application) -> None:
    if not editable(application):
        raise ValidationError({"state": f"申报当前状态为“{engine.state_label(application)}”，不能修改"})


@transaction.atomic
def application_start(
    *,
    call: Call,
    enterprise: Enterprise,
    title: str,
    user=None,
    field: str = "",
    keywords: str = "",
    now=None,
) -> Application:
    """A new draft for `enterprise` under `call`. Refused while the call is not accepting, or when a condition of
    the call is not met (each one listed)."""
    now = now or timezone.now()
    refusal = calls.accepting_refusal(call, now)
    if refusal:
        raise ValidationError({"call": refusal})
    results = eligibility.check(call, enterprise, timezone.localtime(now).date())
    refusal = eligibility.refusal(results)
    if refusal:
        raise ValidationError({"enterprise": refusal})
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": "须填写项目名称"})
    if len(title) > 200:
        raise ValidationError({"title": f"项目名称最多 200 字，现为 {len(title)} 字"})
    if Application.objects.filter(call=call, enterprise=enterprise, title=title).exists():
        raise ValidationError({"title": f"该单位在本批次已有名为“{title}”的申报"})
    application = Application(
        call=call,
        enterprise=enterprise,
        title=title,
        field=field,
        keywords=keywords,
        created_by=user,
        data={},
    )
    engine.start(application, WORKFLOW)
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError:
        raise ValidationError({"title": f"该单位在本批次已有名为“{title}”的申报"}) from None
    return application


@transaction.atomic
def application_save(
    application: Application, *, data: dict, user=None, title: str | None = None
) -> Application:
    """Save a draft: the given fields replace theirs (an empty value clears one); required fields may still be
    empty. Refused, with nothing saved, when a value does not fit its field or names no field."""
    application = (
        Application.objects.select_for_update().select_related("call", "workflow").get(pk=application.pk)
    )
    _require_editable(application)
    fields = calls.field_index(application.call.form)
    errors: dict[str, str] = {}
    stored = dict(application.data or {})
    for key, raw in data.items():
        field = fields.get(key)
        if field is None:
            errors[key] = f"申报书中没有字段“{key}”"
            continue
        if field["type"] == "file":
            continue  # set by attachment_add
        value, problem = clean_value(field, raw)
        if problem:
            errors[key] = problem
        elif value is None:
            stored.pop(key, None)
        else:
            stored[key] = value
    if title is not None:
        title = title.strip()
        if not title:
            errors["title"] = "须填写项目名称"
        elif len(title) > 200:
            errors["title"] = f"项目名称最多 200 字，现为 {len(title)} 字"
        elif (
            Application.objects.filter(call=application.call, enterprise=application.enterprise, title=title)
            .exclude(pk=application.pk)
            .exists()
        ):
            errors["title"] = f"该单位在本批次已有名为“{title}”的申报"
    if errors:
        raise ValidationError(errors)
    application.data = stored
    update = ["data"]
    if title is not None:
        application.title = title
        update.append("title")
    application.save(update_fields=update)
    return application


def _amount(raw: Any, label: str, errors: dict, key: str) -> Decimal:
    if _empty(raw):
        return Decimal("0")
    try:
        number = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation:
        errors[key] = f"{label}“{raw}”不是数字"
        return Decimal("0")
    if not number.is_finite() or number < 0:
        errors[key] = f"{label}须为不小于 0 的数，收到 {raw}"
    elif number != number.quantize(Decimal("0.01")):
        errors[key] = f"{label} {number} 最多两位小数（单位：元）"
    elif number >= Decimal(10) ** 14:
        errors[key] = f"{label} {number} 元超过上限，请检查单位（此处填元）"
    return number


@transaction.atomic
def budget_set(application: Application, *, lines: dict[str, dict], user=None) -> Application:
    """The budget table, category by category ({category: {"subsidy", "self_funded", "note"}}; a category with
    nothing in it is removed). requested_amount becomes the sum of the subsidies. Over the call's cap is saved
    as a draft and refused at submission."""
    application = (
        Application.objects.select_for_update().select_related("call", "workflow").get(pk=application.pk)
    )
    _require_editable(application)
    errors: dict[str, str] = {}
    rows = []
    for category, values in lines.items():
        if category not in BudgetCategory.values:
            errors[category] = f"预算科目“{category}”不存在，可用：{'、'.join(BudgetCategory.labels)}"
            continue
        name = BudgetCategory(category).label
        values = values or {}
        subsidy = _amount(values.get("subsidy"), f"{name}申请资助", errors, f"{category}.subsidy")
        own = _amount(values.get("self_funded"), f"{name}自筹", errors, f"{category}.self_funded")
        note = str(values.get("note") or "").strip()
        if len(note) > 300:
            errors[f"{category}.note"] = f"{name}测算说明最多 300 字，现为 {len(note)} 字"
        rows.append((category, subsidy, own, note))
    if errors:
        raise ValidationError(errors)
    kept = []
    for category, subsidy, own, note in rows:
        if not subsidy and not own and not note:
            continue
        BudgetLine.objects.update_or_create(
            application=application,
            category=category,
            defaults={"subsidy": subsidy, "self_funded": own, "note": note},
        )
        kept.append(category)
    application.budget_lines.filter(category__in=[r[0] for r in rows]).exclude(category__in=kept).delete()
    application.requested_amount = application.budget_lines.aggregate(total=Sum("subsidy"))[
        "total"
    ] or Decimal("0")
    application.save(update_fields=["requested_amount"])
    return application


def attachment_errors(upload, application: Application | None = None) -> str:
    """Why an uploaded file is refused ("" when it is accepted)."""
    name = os.path.basename(getattr(upload, "name", "") or "")
    extension = os.path.splitext(name)[1].lower()
    if extension not in ATTACHMENT_TYPES:
        return f"附件“{name}”的类型不允许：{ATTACHMENT_RULE}"
    if upload.size > ATTACHMENT_MAX_BYTES:
        return f"附件“{name}”大小 {upload.size / 1024 / 1024:.1f}MB，超过 20MB：{ATTACHMENT_RULE}"
    if upload.size == 0:
        return f"附件“{name}”是空文件"
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if not any(head.startswith(magic) for magic in ATTACHMENT_TYPES[extension]):
        return f"附件“{name}”的内容与扩展名 {extension} 不符（文件可能已损坏或被改名）：{ATTACHMENT_RULE}"
    if application is not None and application.attachments.count() >= ATTACHMENT_MAX_COUNT:
        return f"每份申报最多 {ATTACHMENT_MAX_COUNT} 个附件，已满"
    return ""


@transaction.atomic
def attachment_add(
    application: Application, *, upload, title: str = "", field_key: str = "", user=None
) -> Attachment:
    """Attach a file (to a file field of the form when `field_key` names one: it replaces that field's file)."""
    application = (
        Application.objects.select_for_update().select_related("call", "workflow").get(pk=application.pk)
    )
    _require_editable(application)
    field = None
    if field_key:
        field = calls.field_index(application.call.form).get(field_key)
        if field is None or field["type"] != "file":
            raise ValidationError({"field_key": f"申报书中没有附件字段“{field_key}”"})
    problem = attachment_errors(upload, application)
    if problem:
        raise ValidationError({field_key or "file": problem})
    title = (
        title or (field["label"] if field else "") or os.path.splitext(os.path.basename(upload.name))[0]
    ).strip()
    attachment = Attachment.objects.create(application=application, title=title[:200], file=upload)
    if field is not None:
        data = dict(application.data or {})
        previous = data.get(field_key)
        data[field_key] = attachment.pk
        application.data = data
        application.save(update_fields=["data"])
        if previous and previous != attachment.pk:
            _delete_attachment(application.attachments.filter(pk=previous).first())
    return attachment


def _delete_attachment(attachment: Attachment | None) -> None:
    if attachment is None:
        return
    storage, name = attachment.file.storage, attachment.file.name
    attachment.delete()
    transaction.on_commit(lambda: storage.delete(name) if name else None)


@transaction.atomic
def attachment_remove(attachment: Attachment, *, user=None) -> None:
    application = (
        Application.objects.select_for_update()
        .select_related("call", "workflow")
        .get(pk=attachment.application_id)
    )
    _require_editable(application)
    data = dict(application.data or {})
    cleared = [
        key
        for key, value in data.items()
        if value == attachment.pk and key in calls.field_index(application.call.form)
    ]
    if cleared:
        for key in cleared:
            data.pop(key)
        application.data = data
        application.save(update_fields=["data"])
    _delete_attachment(attachment)


def submit_problems(application: Application, user=None) -> list[str]:
    """Every refusal of the submit transition's guards at once (the engine stops at the first), for the page."""
    t = submit_transition(application)
    if t is None:
        return [f"申报当前状态为“{engine.state_label(application)}”，不能提交"]
    declared = engine.REGISTRY.get(application.workflow.key)
    problems = []
    for name in t.get("guards", []):
        guard = declared.guards.get(name) if declared else None
        if guard is None:
            problems.append(f"检查 {name} 不存在，无法提交")
            continue
        found = guard(application, user)
        if found:
            problems.append(found)
    return problems


# --- submit and formal review ---------------------------------------------------------------------------


@transaction.atomic
def application_submit(application: Application, *, user) -> Application:
    """Submit (or resubmit after a return) through the engine: its guards decide, its log records. The guards
    read the application as stored (not a caller's possibly stale copy); the submitted one is returned."""
    application = _fresh(application)
    t = submit_transition(application)
    if t is None:
        raise ValidationError({"state": f"申报当前状态为“{engine.state_label(application)}”，不能提交"})
    engine.take(application, t["name"], user)
    application.submitted_at = timezone.now()
    application.save(update_fields=["submitted_at"])
    return application


def _reasons_text(reasons: Any) -> str:
    if reasons is None:
        return ""
    if isinstance(reasons, str):
        items = reasons.splitlines()
    else:
        items = [str(r) for r in reasons]
    return "\n".join(i.strip() for i in items if i and i.strip())


def formal_review(application: Application, passed: bool, reasons: Any, user) -> Application:
    """形式审查: pass it to expert review, or return it to the applicant with the reasons (required)."""
    text = _reasons_text(reasons)
    if not passed and not text:
        raise ValidationError({"reasons": "退回修改须写明理由（每行一条）"})
    return engine.take(_fresh(application), PASS if passed else RETURN, user, text)


def _fresh(application: Application) -> Application:
    return Application.objects.select_related("call__workflow", "enterprise", "workflow").get(
        pk=application.pk
    )


def formal_review_queue() -> QuerySet[Application]:
    """Applications waiting for formal review: in a state their workflow version can pass them from."""
    condition = Q(pk__in=[])
    for workflow in Workflow.objects.filter(key=WORKFLOW):
        t = next((t for t in workflow.definition.get("transitions", []) if t.get("name") == PASS), None)
        if t:
            condition |= Q(workflow=workflow, state__in=t["from"])
    return Application.objects.filter(condition)


def decisions(application: Application) -> list[TransitionLog]:
    """The formal review decisions on it (returns and passes), latest first."""
    return list(engine.history(application).filter(transition__in=[RETURN, PASS]).order_by("-at", "-pk"))
