"""Writes of 双向发榜: postings (需求, 成果, 专家团队) with their moderation, and dockings (对接) from 推荐 to 落地.

Postings
- An enterprise user posts demands for its own enterprise (matching.add_demand); a university user posts
  achievements and talent profiles for its organisation (matching.add_achievement / add_talentprofile and a
  matching.Affiliation); an officer may post achievements for any organisation (the import does so).
- Every value is checked and refused with a Chinese message naming the field, the value and what is allowed:
  the field code (技术领域) among the eight 高新技术领域, the stated length limits (TEXT_LIMITS and the model
  columns), a deadline not in the past, a budget ≥ 0 to the fen, a TRL 1–9, the cooperation modes.
- A duplicate is refused naming the existing posting: the same enterprise (demand) or organisation
  (achievement, talent) with a title of the same fingerprint (NFKC, case-folded, without whitespace and
  punctuation), unless that one was withdrawn; the database's unique constraint is the last line.
- Text is stored as typed: HTML or script in it stays text (the templates escape it).
- Moderation (workflows.POSTING_STEPS): 草稿 → 待审核 → 已发布 (an officer passes it) or 退回修改 (with the
  reason) and back; the owner may close a published posting or withdraw it; only published postings are
  searched and recommended. The owner changing a published posting sends it back to 待审核.
- Every write stores the tokens the search index matches on (index.tokens_for) when the text changes, and
  appends an index change (index.record_change) in the same transaction, so the next search sees it.

Dockings
- Started from a recommendation (the demand's page, or the achievement's): both postings published, one docking
  per pair. The engine's score and explanation are stored as they were at that moment.
- Steps (workflows.DOCKING_STEPS): 推荐 → 联系 → 洽谈 → 签约 (date and amount) → 落地 (date), each with a dated
  note; 未成 at any step before 落地 with a DeclineReason and a note. A date is never in the future nor before
  the docking's last note. Either side or an officer takes them.
- Both sides are told by e-mail (Django's mail backend) after the transaction commits: the demand's enterprise
  users, and the counterpart's poster and organisation users; not the user who acted.

Every refusal is a ValidationError (or PermissionDenied for who may act); nothing is written when one is raised.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from kechuang.core.money import format_wan
from kechuang.enterprises.choices import HitechField
from kechuang.enterprises.models import Enterprise
from kechuang.matching import access, index
from kechuang.matching.models import (
    Achievement,
    CooperationMode,
    DeclineReason,
    Demand,
    Docking,
    DockingNote,
    DockingState,
    PostingState,
    TalentProfile,
)
from kechuang.matching.workflows import (
    DOCKING_STEPS,
    EDITABLE_STATES,
    EITHER,
    MODERATOR,
    OWNER,
    POSTING_STEPS,
)

FIELD_LABELS = dict(HitechField.choices)
MODE_LABELS = dict(CooperationMode.choices)
REASON_LABELS = dict(DeclineReason.choices)
STATE_LABELS = dict(PostingState.choices)
DOCKING_LABELS = dict(DockingState.choices)

# The long texts' limits (字 = characters), stated on the forms and in the API.
TEXT_LIMITS = {"description": 5000, "abstract": 5000, "bio": 3000}
NOTE_MAX = 2000
DECLINE_NOTE_MAX = Docking._meta.get_field("decline_note").max_length
MODERATION_NOTE_MAX = Demand._meta.get_field("moderation_note").max_length
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1e14")  # MONEY: 16 digits, 2 decimals
MATCH_POOL = (
    index.MAX_K
)  # how far down the engine's list a docking's counterpart is looked for, to store its score

COMMON_FIELDS = ("title", "field", "keywords", "contact_name", "contact_phone")
FIELDS = {
    "demand": (*COMMON_FIELDS, "description", "budget", "deadline"),
    "achievement": (*COMMON_FIELDS, "abstract", "trl", "ip", "cooperation_modes"),
    "talent": (*COMMON_FIELDS, "position", "bio"),
}
TEXT_FIELD = {"demand": "description", "achievement": "abstract", "talent": "bio"}
REQUIRED_TEXT = {
    "description": "需求描述必须填写（要解决的技术问题、指标、应用场景）",
    "abstract": "成果简介必须填写（技术内容、性能指标、应用领域）",
    "bio": "研究方向与成果必须填写",
}
TITLE_LABEL = {"demand": "需求名称", "achievement": "成果名称", "talent": "专家或团队名称"}
PHONE = re.compile(r"[0-9+\-() ]+")


# —— helpers ————————————————————————————————————————————————————————————————————————————————————————————————


def fingerprint(title: str) -> str:
    """The title for duplicate checks: NFKC (full-width → half-width), case-folded, without whitespace and
    punctuation. "５Ｇ 基站：散热" and "5g基站散热" are the same."""
    text = unicodedata.normalize("NFKC", title or "").casefold()
    kept = "".join(ch for ch in text if not ch.isspace() and not unicodedata.category(ch).startswith("P"))
    return kept[: Demand._meta.get_field("fingerprint").max_length]


def _text(value: Any) -> str:
    if value is None:
        return ""
    return (value if isinstance(value, str) else str(value)).strip()


def _label(model, name: str) -> str:
    return str(model._meta.get_field(name).verbose_name)


def _max(model, name: str) -> int:
    return TEXT_LIMITS.get(name) or model._meta.get_field(name).max_length


def _too_long(label: str, value: str, limit: int) -> str | None:
    if len(value) > limit:
        return f"{label}最多 {limit:,} 字，现为 {len(value):,} 字"
    return None


def field_choices_text() -> str:
    return "、".join(f"{code}（{label}）" for code, label in FIELD_LABELS.items())


def mode_choices_text() -> str:
    return "、".join(f"{code}（{label}）" for code, label in MODE_LABELS.items())


def reason_choices_text() -> str:
    return "、".join(f"{code}（{label}）" for code, label in REASON_LABELS.items())


def normalise_keywords(text: str) -> str:
    """Keywords separated by 、，,;；/ or line breaks, joined with 、, each once (a space inside one, as in
    "3D 打印", is kept, single)."""
    parts = [" ".join(p.split()) for p in re.split(r"[、，,;；/|\n]+", text or "")]
    return "、".join(dict.fromkeys(p for p in parts if p))


def _yuan(value: Any, label: str) -> Decimal:
    """An amount in yuan, ≥ 0, to the fen; or ValidationError naming `label`."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValidationError(f"{label}“{value}”不是数字（单位：元）") from None
    if not number.is_finite():
        raise ValidationError(f"{label}“{value}”不是有限的数字")
    if number < 0:
        raise ValidationError(f"{label} {number} 元为负数，金额不能为负")
    if number != number.quantize(CENT):
        raise ValidationError(f"{label} {number} 元超过两位小数（金额精确到分）")
    if number >= MAX_AMOUNT:
        raise ValidationError(f"{label} {number} 元超出可录入的范围")
    return number.quantize(CENT)


def _date(value: Any, label: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(_text(value))
    except ValueError:
        raise ValidationError(f"{label}“{value}”不是日期（格式 YYYY-MM-DD）") from None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _history(obj, user, reason: str = ""):
    obj._history_user = user if getattr(user, "is_authenticated", False) else None
    if reason:
        obj._change_reason = reason[:100]
    return obj


def _actor(user):
    return user if getattr(user, "is_authenticated", False) else None


def _mail_after_commit(recipients, subject: str, body: str, *, actor=None) -> None:
    """One e-mail per recipient with an address (not the actor), sent once the transaction has committed."""
    addresses = sorted(
        {u.email for u in recipients if u.email and (actor is None or u.pk != getattr(actor, "pk", None))}
    )
    if not addresses:
        return
    messages = [(f"【科创平台】{subject}", body, None, [address]) for address in addresses]
    transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))


# —— values ——————————————————————————————————————————————————————————————————————————————————————————————————


def posting_errors(
    kind: str, values: dict, *, today: dt.date | None = None, previous_deadline: dt.date | None = None
) -> tuple[dict[str, list[str]], dict]:
    """What is wrong with a posting's values, field by field (empty when nothing), and the cleaned values.
    A deadline in the past is refused unless it is the one the posting already had (`previous_deadline`)."""
    today = today or timezone.localdate()
    model = access.MODELS[kind]
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    cleaned: dict[str, Any] = {}
    title = _text(values.get("title"))
    if not title:
        fail("title", f"{TITLE_LABEL[kind]}必须填写")
    elif problem := _too_long(TITLE_LABEL[kind], title, _max(model, "title")):
        fail("title", problem)
    elif not fingerprint(title):
        fail("title", f"{TITLE_LABEL[kind]}“{title}”只有标点或空白，请填写实际内容")
    cleaned["title"] = title

    code = _text(values.get("field"))
    if code and code not in FIELD_LABELS:
        fail("field", f"技术领域“{code}”不存在，可选：{field_choices_text()}")
    elif not code and kind != "talent":
        fail("field", f"技术领域必须选择，可选：{field_choices_text()}")
    cleaned["field"] = code

    keywords = normalise_keywords(_text(values.get("keywords")))
    if problem := _too_long("关键词", keywords, _max(model, "keywords")):
        fail("keywords", problem)
    cleaned["keywords"] = keywords

    for name in ("contact_name", "contact_phone"):
        text = _text(values.get(name))
        if problem := _too_long(_label(model, name), text, _max(model, name)):
            fail(name, problem)
        cleaned[name] = text
    phone = cleaned["contact_phone"]
    if phone and "contact_phone" not in errors:
        digits = sum(ch.isdigit() for ch in phone)
        if not PHONE.fullmatch(phone) or not 7 <= digits <= 20:
            fail(
                "contact_phone",
                f"联系电话“{phone}”格式不对：只能含数字、空格、+、-、括号，7–20 位数字，如 021-57000000 或 13800000000",
            )

    text_field = TEXT_FIELD[kind]
    text = _text(values.get(text_field))
    if not text:
        fail(text_field, REQUIRED_TEXT[text_field])
    elif problem := _too_long(_label(model, text_field), text, _max(model, text_field)):
        fail(text_field, problem)
    cleaned[text_field] = text

    if kind == "demand":
        budget = values.get("budget")
        cleaned["budget"] = None
        if not _blank(budget):
            try:
                cleaned["budget"] = _yuan(budget, "预算")
            except ValidationError as error:
                errors.setdefault("budget", []).extend(error.messages)
        deadline = values.get("deadline")
        cleaned["deadline"] = None
        if not _blank(deadline):
            try:
                cleaned["deadline"] = _date(deadline, "截止日期")
            except ValidationError as error:
                errors.setdefault("deadline", []).extend(error.messages)
            else:
                if cleaned["deadline"] < today and cleaned["deadline"] != previous_deadline:
                    fail("deadline", f"截止日期 {cleaned['deadline']} 早于今天（{today}）")
    elif kind == "achievement":
        trl = values.get("trl")
        cleaned["trl"] = None
        if not _blank(trl):
            number = None
            if isinstance(trl, int) and not isinstance(trl, bool):
                number = trl
            elif isinstance(trl, str) and trl.strip().isdigit():
                number = int(trl.strip())
            if number is None:
                fail("trl", f"技术成熟度“{trl}”不是整数（1–9）")
            elif not 1 <= number <= 9:
                fail("trl", f"技术成熟度 {number} 不在 1–9 之间（1 基本原理 … 9 规模应用）")
            else:
                cleaned["trl"] = number
        ip = _text(values.get("ip"))
        if problem := _too_long("知识产权", ip, _max(model, "ip")):
            fail("ip", problem)
        cleaned["ip"] = ip
        cleaned["cooperation_modes"] = []
        raw = values.get("cooperation_modes") or []
        if isinstance(raw, str):
            raw = [p for p in re.split(r"[、，,;；/\s]+", raw) if p.strip()]
        by_label = {label: code for code, label in MODE_LABELS.items()}
        modes = []
        for item in raw:
            item = _text(item)
            found = item if item in MODE_LABELS else by_label.get(item)
            if found is None:
                fail("cooperation_modes", f"合作方式“{item}”不存在，可选：{mode_choices_text()}")
            elif found not in modes:
                modes.append(found)
        cleaned["cooperation_modes"] = modes
    else:
        position = _text(values.get("position"))
        if problem := _too_long("职称/职务", position, _max(model, "position")):
            fail("position", problem)
        cleaned["position"] = position
    return errors, cleaned


def _organisation_for(user, organisation: Any, kind: str) -> str:
    """The organisation an achievement or a talent profile is posted for: a university user's own; an officer
    names it."""
    mine = access.organisation_of(user)
    named = _text(organisation)
    if access.is_moderator(user, kind):
        chosen = named or mine
        if not chosen:
            raise ValidationError({"organisation": "所属单位必须填写（高校或科研院所的全称）"})
    else:
        if not mine:
            raise PermissionDenied("您的账号未关联高校或科研院所，请联系科委业务人员设置所属单位后再发布")
        if named and named != mine:
            raise PermissionDenied(f"您是{mine}的用户，不能以“{named}”的名义发布")
        chosen = mine
    limit = _max(access.MODELS[kind], "organisation")
    if problem := _too_long("所属单位", chosen, limit):
        raise ValidationError({"organisation": problem})
    return chosen


def find_duplicate(kind: str, posting) -> Any:
    model = access.MODELS[kind]
    owner = (
        {"enterprise_id": posting.enterprise_id}
        if kind == "demand"
        else {"organisation": posting.organisation}
    )
    return (
        model.objects.filter(fingerprint=posting.fingerprint, **owner)
        .exclude(state=PostingState.WITHDRAWN)
        .exclude(pk=posting.pk)
        .order_by("pk")
        .first()
    )


def duplicate_message(kind: str, existing) -> str:
    owner = existing.enterprise.name if kind == "demand" else existing.organisation
    return (
        f"{owner}已发布同名{access.SHORT[kind]}“{existing.title}”（编号 {existing.pk}，"
        f"{STATE_LABELS.get(existing.state, existing.state)}），不能重复发布；如需修改请编辑原{access.SHORT[kind]}"
    )


def _save_posting(kind: str, posting, *, user, reason: str) -> None:
    """Check the duplicate, refresh the tokens, save with its history, record the index change."""
    posting.fingerprint = fingerprint(posting.title)
    existing = find_duplicate(kind, posting)
    if existing is not None:
        raise ValidationError({"title": duplicate_message(kind, existing)})
    posting.tokens = index.tokens_for(posting.title, posting.keywords, getattr(posting, TEXT_FIELD[kind]))
    try:
        with transaction.atomic():
            _history(posting, user, reason).save()
    except IntegrityError:  # the same title saved at the same moment by someone else: the constraint's word
        existing = find_duplicate(kind, posting)
        message = (
            duplicate_message(kind, existing) if existing else f"同名{access.SHORT[kind]}已存在，不能重复发布"
        )
        raise ValidationError({"title": message}) from None
    index.record_change(kind, posting.pk)


def _refuse(kind: str, errors: dict[str, list[str]], posting) -> None:
    """Raise the field errors, with the duplicate (when the title itself is fine) among them."""
    if "title" not in errors:
        posting.fingerprint = fingerprint(posting.title)
        existing = find_duplicate(kind, posting)
        if existing is not None:
            errors["title"] = [duplicate_message(kind, existing)]
    if errors:
        raise ValidationError(errors)


def _check_fields(kind: str, values: dict) -> None:
    unknown = set(values) - set(FIELDS[kind])
    if unknown:
        raise TypeError(f"unknown {kind} fields {sorted(unknown)}")


# —— creating and changing postings ——————————————————————————————————————————————————————————————————————————


@transaction.atomic
def demand_create(*, enterprise: Enterprise, user, today: dt.date | None = None, **values) -> Demand:
    """A new demand of `enterprise` (one of the user's), as a draft."""
    _check_fields("demand", values)
    if user is None or not user.has_perm(access.perm("demand", "add")):
        raise PermissionDenied("无权发布技术需求（需企业用户账号）")
    if enterprise.pk not in access.enterprise_ids(user):
        raise PermissionDenied(f"您不是{enterprise.name}的用户，不能以其名义发布需求")
    errors, cleaned = posting_errors("demand", values, today=today)
    demand = Demand(enterprise=enterprise, created_by=_actor(user), state=PostingState.DRAFT, **cleaned)
    _refuse("demand", errors, demand)
    _save_posting("demand", demand, user=user, reason="新建")
    return demand


def _offer_create(kind: str, *, user, organisation, today, values):
    _check_fields(kind, values)
    if user is None or not user.has_perm(access.perm(kind, "add")):
        raise PermissionDenied(f"无权发布{access.LABELS[kind]}（需高校/院所用户账号）")
    chosen = _organisation_for(user, organisation, kind)
    errors, cleaned = posting_errors(kind, values, today=today)
    posting = access.MODELS[kind](
        organisation=chosen, created_by=_actor(user), state=PostingState.DRAFT, **cleaned
    )
    _refuse(kind, errors, posting)
    return posting


@transaction.atomic
def achievement_create(
    *, user, organisation: str = "", today: dt.date | None = None, **values
) -> Achievement:
    """A new achievement of the user's organisation (an officer names the organisation), as a draft."""
    posting = _offer_create("achievement", user=user, organisation=organisation, today=today, values=values)
    _save_posting("achievement", posting, user=user, reason="新建")
    return posting


@transaction.atomic
def achievements_import(
    items: list[tuple[str, dict]], *, user, batch: str, source_name: str = ""
) -> list[Achievement]:
    """Save checked achievements (importing.py): (organisation, cleaned values) each. An officer's are published
    at once (the officer moderates), a university user's submitted for moderation."""
    officer = access.is_moderator(user, "achievement")
    where = f"（{source_name}）" if source_name else ""
    saved = []
    for organisation, values in items:
        posting = Achievement(
            organisation=organisation,
            created_by=_actor(user),
            import_batch=batch,
            state=PostingState.PUBLISHED if officer else PostingState.PENDING,
            **values,
        )
        if officer:
            posting.moderated_by, posting.published_at = _actor(user), timezone.now()
            posting.moderation_note = "科委业务人员批量导入并发布"
        reason = f"批量导入{where}并发布" if officer else f"批量导入{where}并提交审核"
        _save_posting("achievement", posting, user=user, reason=reason)
        saved.append(posting)
    return saved


@transaction.atomic
def talent_create(*, user, organisation: str = "", today: dt.date | None = None, **values) -> TalentProfile:
    """A new talent profile (专家或团队) of the user's organisation, as a draft."""
    posting = _offer_create("talent", user=user, organisation=organisation, today=today, values=values)
    _save_posting("talent", posting, user=user, reason="新建")
    return posting


@transaction.atomic
def posting_seed(
    kind: str,
    *,
    user,
    enterprise: Enterprise | None = None,
    organisation: str = "",
    batch: str = "",
    **values,
):
    """A posting loaded for someone else (the demo, a data migration): checked as the forms check it and saved
    through the same path (duplicate rule, tokens, index change, history), without the poster's own-side check,
    and submitted for moderation (待审核) — an officer then publishes it with posting_take."""
    _check_fields(kind, values)
    errors, cleaned = posting_errors(kind, values)
    owner = {"enterprise": enterprise} if kind == "demand" else {"organisation": _text(organisation)}
    posting = access.MODELS[kind](created_by=_actor(user), state=PostingState.PENDING, **owner, **cleaned)
    _refuse(kind, errors, posting)
    if batch and kind == "achievement":
        posting.import_batch = batch
    _save_posting(kind, posting, user=user, reason="代为录入并提交审核")
    return posting


def _lock(posting):
    model = type(posting)
    related = ("enterprise",) if isinstance(posting, Demand) else ()
    return model.objects.select_for_update(of=("self",)).select_related(*related).get(pk=posting.pk)


@transaction.atomic
def posting_update(posting, *, user, today: dt.date | None = None, **changes):
    """Change a posting. Its own side changes it while it is a draft, returned, pending or published (a
    published one goes back to 待审核: what was moderated changed); an officer (审核) changes it in any state
    but withdrawn, and it stays where it is."""
    kind = access.kind_of(posting)
    _check_fields(kind, changes)
    current = _lock(posting)
    moderator = access.is_moderator(user, kind)
    owner = access.is_owner(user, current) and user.has_perm(access.perm(kind, "add"))
    if not (moderator or owner):
        raise PermissionDenied(f"仅发布方或科委业务人员可以修改该{access.SHORT[kind]}")
    state = STATE_LABELS.get(current.state, current.state)
    if current.state == PostingState.WITHDRAWN or (not moderator and current.state not in EDITABLE_STATES):
        raise ValidationError({"state": f"该{access.SHORT[kind]}当前为“{state}”，不能修改"})
    values = {name: changes.get(name, getattr(current, name)) for name in FIELDS[kind]}
    errors, cleaned = posting_errors(
        kind, values, today=today, previous_deadline=getattr(current, "deadline", None)
    )
    for name, value in cleaned.items():
        setattr(current, name, value)
    _refuse(kind, errors, current)
    reason = "修改"
    if current.state == PostingState.PUBLISHED and not moderator:
        current.state = PostingState.PENDING
        reason = "修改已发布的内容，重新提交审核"
    _save_posting(kind, current, user=user, reason=reason)
    return current


def allowed_steps(posting, user) -> list:
    """The moderation steps the user may take on the posting now."""
    kind = access.kind_of(posting)
    found = []
    for step in POSTING_STEPS.values():
        if posting.state in step.sources and _may_take(step.who, user, posting, kind):
            found.append(step)
    return found


def _may_take(who: str, user, posting, kind: str) -> bool:
    owner = access.is_owner(user, posting) and user.has_perm(access.perm(kind, "add"))
    moderator = access.is_moderator(user, kind)
    return {OWNER: owner, MODERATOR: moderator, EITHER: owner or moderator}[who]


@transaction.atomic
def posting_take(posting, name: str, *, user, reason: str = "", today: dt.date | None = None):
    """Take a moderation step (workflows.POSTING_STEPS): submit, resubmit, publish, return (with its reason),
    close, withdraw. Refused, nothing changed, when the state, the user or the reason does not allow it."""
    kind = access.kind_of(posting)
    step = POSTING_STEPS.get(name)
    if step is None:
        allowed = "、".join(f"{s.name}（{s.label}）" for s in POSTING_STEPS.values())
        raise ValidationError({"step": f"没有操作“{name}”，可选：{allowed}"})
    current = _lock(posting)
    state = STATE_LABELS.get(current.state, current.state)
    if current.state not in step.sources:
        raise ValidationError({"step": f"该{access.SHORT[kind]}当前为“{state}”，不能执行“{step.label}”"})
    if not _may_take(step.who, user, current, kind):
        who = {OWNER: "发布方", MODERATOR: "科委业务人员", EITHER: "发布方或科委业务人员"}[step.who]
        raise PermissionDenied(f"仅{who}可以执行“{step.label}”")
    reason = _text(reason)
    if step.reason_required and not reason:
        raise ValidationError({"reason": f"{step.label}须说明原因（发布方据此修改）"})
    if problem := _too_long("审核意见", reason, MODERATION_NOTE_MAX):
        raise ValidationError({"reason": problem})
    today = today or timezone.localdate()
    if kind == "demand" and step.to in (PostingState.PENDING, PostingState.PUBLISHED):
        if current.deadline is not None and current.deadline < today:
            raise ValidationError(
                {
                    "deadline": f"截止日期 {current.deadline} 已过（今天 {today}），请先修改截止日期再{step.label}"
                }
            )
    current.state = step.to
    if step.who == MODERATOR:
        current.moderated_by = _actor(user)
        current.moderation_note = reason
    if step.to == PostingState.PUBLISHED:
        current.published_at = timezone.now()
    _history(current, user, f"{step.label}：{reason}" if reason else step.label).save()
    index.record_change(kind, current.pk)
    posting.state = current.state
    if step.who == MODERATOR:
        _notify_poster(kind, current, step.label, reason, actor=user)
    return current


def _poster_users(kind: str, posting) -> list:
    from django.contrib.auth import get_user_model

    User = get_user_model()
    if kind == "demand":
        found = User.objects.filter(is_active=True, memberships__enterprise_id=posting.enterprise_id)
    else:
        found = User.objects.filter(is_active=True, affiliation__organisation=posting.organisation)
        if posting.created_by_id:
            found = found | User.objects.filter(pk=posting.created_by_id, is_active=True)
    return list(found.distinct())


def _notify_poster(kind: str, posting, label: str, reason: str, *, actor) -> None:
    body = (
        f"您发布的{access.LABELS[kind]}“{posting.title}”：{label}。\n"
        + (f"审核意见：{reason}\n" if reason else "")
        + f"登录科创平台查看：/matching/{kind}s/{posting.pk}/\n"
    )
    _mail_after_commit(
        _poster_users(kind, posting), f"{access.LABELS[kind]}{label}：{posting.title}", body, actor=actor
    )


@transaction.atomic
def posting_delete(posting, *, user) -> None:
    """Delete a posting that no docking refers to: its own side while it is a draft, returned or withdrawn;
    an officer in any state. The index forgets it at once."""
    kind = access.kind_of(posting)
    current = _lock(posting)
    moderator = access.is_moderator(user, kind)
    owner = access.is_owner(user, current) and user.has_perm(access.perm(kind, "add"))
    if not (moderator or owner):
        raise PermissionDenied(f"仅发布方或科委业务人员可以删除该{access.SHORT[kind]}")
    deletable = (PostingState.DRAFT, PostingState.RETURNED, PostingState.WITHDRAWN)
    if not moderator and current.state not in deletable:
        state = STATE_LABELS.get(current.state, current.state)
        raise ValidationError(
            {
                "state": f"该{access.SHORT[kind]}当前为“{state}”，只有草稿、退回修改或已撤回的可以删除（可先撤回）"
            }
        )
    dockings = current.dockings.count()
    if dockings:
        raise ValidationError(
            {"state": f"该{access.SHORT[kind]}已有 {dockings} 条对接记录，不能删除（可关闭或撤回）"}
        )
    pk = current.pk
    _history(current, user, "删除").delete()
    index.record_change(kind, pk, deleted=True)


# —— dockings ————————————————————————————————————————————————————————————————————————————————————————————————


def _counterpart_check(demand: Demand, achievement, talent) -> tuple[str, Any]:
    if (achievement is None) == (talent is None):
        raise ValidationError({"counterpart": "对接须对应一项成果或一个专家团队（二者选一）"})
    return ("achievement", achievement) if achievement is not None else ("talent", talent)


def _explanation(demand: Demand, kind: str, other) -> tuple[float | None, dict]:
    """The engine's score and explanation of `other` for `demand`, as recommended now."""
    for match in index.recommend_for_demand(demand, k=MATCH_POOL, kinds=(kind,)):
        if match.kind == kind and match.pk == other.pk:
            return match.score, {
                "terms": list(match.terms),
                "field": bool(match.field_match),
                "text": match.explanation,
            }
    same = bool(demand.field and demand.field == other.field)
    return None, {"terms": [], "field": same, "text": "不在系统推荐之列，由用户直接发起对接"}


def docking_label(docking: Docking) -> str:
    other = access.counterpart(docking)
    return f"{docking.demand.title} ↔ {other.title}（{other.organisation}）"


@transaction.atomic
def docking_create(
    demand: Demand,
    *,
    user,
    achievement: Achievement | None = None,
    talent: TalentProfile | None = None,
    note: str = "",
    today: dt.date | None = None,
) -> Docking:
    """Start a docking of `demand` with an achievement or a talent profile (推荐), storing the engine's score
    and explanation. By the demand's side, the counterpart's side or an officer; both published; once per pair."""
    kind, other = _counterpart_check(demand, achievement, talent)
    demand = Demand.objects.select_for_update(of=("self",)).select_related("enterprise").get(pk=demand.pk)
    other = type(other).objects.get(pk=other.pk)
    officer = getattr(user, "is_authenticated", False) and user.has_perm("matching.change_docking")
    side = access.is_owner(user, demand) or access.is_owner(user, other)
    if not (officer or (side and user.has_perm("matching.add_docking"))):
        raise PermissionDenied("仅需求方、成果方或科委业务人员可以发起对接")
    for posting, what in ((demand, "需求"), (other, access.SHORT[kind])):
        if posting.state != PostingState.PUBLISHED:
            state = STATE_LABELS.get(posting.state, posting.state)
            raise ValidationError(
                {"counterpart": f"{what}“{posting.title}”当前为“{state}”，只有已发布的需求与成果可以对接"}
            )
    existing = Docking.objects.filter(demand=demand, **{kind: other}).first()
    if existing is not None:
        raise ValidationError(
            {
                "counterpart": f"该需求与{access.SHORT[kind]}“{other.title}”已有对接记录（编号 {existing.pk}，"
                f"{DOCKING_LABELS[existing.state]}），不能重复发起"
            }
        )
    note = _text(note)
    if problem := _too_long("对接记录", note, NOTE_MAX):
        raise ValidationError({"note": problem})
    score, explanation = _explanation(demand, kind, other)
    docking = Docking(
        demand=demand, score=score, explanation=explanation, created_by=_actor(user), **{kind: other}
    )
    try:
        with transaction.atomic():
            _history(docking, user, "发起对接").save()
    except IntegrityError:
        raise ValidationError({"counterpart": "该对接已由他人同时发起，请刷新后查看"}) from None
    today = today or timezone.localdate()
    DockingNote.objects.create(
        docking=docking,
        on=today,
        text=note or f"由推荐发起对接：{explanation['text']}",
        state=docking.state,
        author=_actor(user),
    )
    _notify_sides(docking, "发起对接", note or explanation["text"], actor=user)
    return docking


def _note_date(docking: Docking, on: Any, today: dt.date, *, after_last: bool) -> dt.date:
    if _blank(on):
        raise ValidationError({"on": "日期必须填写"})
    try:
        day = _date(on, "日期")
    except ValidationError as error:
        raise ValidationError({"on": error.messages}) from None
    if day > today:
        raise ValidationError({"on": f"日期 {day} 晚于今天（{today}），不能预填将来的进展"})
    notes = docking.notes.order_by("-on", "-pk") if after_last else docking.notes.order_by("on", "pk")
    bound = notes.values_list("on", flat=True).first()
    if bound is not None and day < bound:
        which = "上一条对接记录" if after_last else "对接发起"
        raise ValidationError({"on": f"日期 {day} 早于{which}的日期 {bound}"})
    return day


@transaction.atomic
def docking_step(
    docking: Docking,
    name: str,
    *,
    user,
    on: Any,
    text: str,
    amount: Any = None,
    reason: str = "",
    today: dt.date | None = None,
) -> Docking:
    """Move a docking one step (workflows.DOCKING_STEPS) with its dated note: 签约 needs the amount (the date
    is the 签约日期), 落地 its date, 未成 a DeclineReason (其他 needs the note to say what)."""
    step = DOCKING_STEPS.get(name)
    if step is None:
        allowed = "、".join(f"{s.name}（{s.label}）" for s in DOCKING_STEPS.values())
        raise ValidationError({"step": f"没有操作“{name}”，可选：{allowed}"})
    current = (
        Docking.objects.select_for_update(of=("self",))
        .select_related("demand__enterprise", "achievement", "talent")
        .get(pk=docking.pk)
    )
    if not access.may_act_on_docking(user, current):
        raise PermissionDenied("仅对接双方或科委业务人员可以推进对接")
    if current.state not in step.sources:
        raise ValidationError(
            {"step": f"对接当前为“{DOCKING_LABELS[current.state]}”，不能执行“{step.label}”"}
        )
    today = today or timezone.localdate()
    day = _note_date(current, on, today, after_last=True)
    text = _text(text)
    limit = DECLINE_NOTE_MAX if name == "decline" else NOTE_MAX
    if not text:
        raise ValidationError({"text": f"请填写“{step.label}”的对接记录（进展、约定或原因）"})
    if problem := _too_long("对接记录", text, limit):
        raise ValidationError({"text": problem})
    summary = step.label
    if name == "sign":
        if _blank(amount):
            raise ValidationError({"amount": "签约须填写合同金额（元）"})
        try:
            number = _yuan(amount, "合同金额")
        except ValidationError as error:
            raise ValidationError({"amount": error.messages}) from None
        if number == 0:
            raise ValidationError({"amount": "合同金额须大于 0 元"})
        current.signed_on, current.contract_amount = day, number
        summary = f"签约：{day}，合同金额 {format_wan(number)} 万元"
    elif name == "land":
        current.landed_on = day
        summary = f"落地：{day}"
    elif name == "decline":
        reason = _text(reason)
        if not reason:
            raise ValidationError({"reason": f"未成须选择原因，可选：{reason_choices_text()}"})
        if reason not in REASON_LABELS:
            raise ValidationError({"reason": f"未成原因“{reason}”不存在，可选：{reason_choices_text()}"})
        current.decline_reason, current.decline_note = reason, text
        summary = f"未成：{REASON_LABELS[reason]}"
    current.state = step.to
    _history(current, user, summary).save()
    DockingNote.objects.create(docking=current, on=day, text=text, state=current.state, author=_actor(user))
    _notify_sides(current, summary, text, actor=user)
    docking.state = current.state
    return current


@transaction.atomic
def docking_note_add(
    docking: Docking, *, user, on: Any, text: str, today: dt.date | None = None
) -> DockingNote:
    """A dated note on the docking without changing its state (a call, a visit, a sample sent)."""
    current = (
        Docking.objects.select_for_update(of=("self",))
        .select_related("demand__enterprise", "achievement", "talent")
        .get(pk=docking.pk)
    )
    if not access.may_act_on_docking(user, current):
        raise PermissionDenied("仅对接双方或科委业务人员可以填写对接记录")
    if current.state in (DockingState.DECLINED, DockingState.LANDED):
        raise ValidationError({"text": f"对接已“{DOCKING_LABELS[current.state]}”，不再添加记录"})
    day = _note_date(current, on, today or timezone.localdate(), after_last=False)
    text = _text(text)
    if not text:
        raise ValidationError({"text": "对接记录必须填写"})
    if problem := _too_long("对接记录", text, NOTE_MAX):
        raise ValidationError({"text": problem})
    note = DockingNote.objects.create(
        docking=current, on=day, text=text, state=current.state, author=_actor(user)
    )
    _notify_sides(current, "新的对接记录", text, actor=user)
    return note


def _notify_sides(docking: Docking, what: str, text: str, *, actor) -> None:
    sides = access.side_users(docking)
    body = (
        f"对接：{docking_label(docking)}\n"
        f"进展：{what}（当前状态：{DOCKING_LABELS[docking.state]}）\n"
        f"记录：{text}\n"
        f"登录科创平台查看：/matching/dockings/{docking.pk}/\n"
    )
    _mail_after_commit(
        [*sides["demand"], *sides["counterpart"]],
        f"对接进展：{docking.demand.title}——{what}",
        body,
        actor=actor,
    )


# —— a signed docking becomes a registered technology contract ——————————————————————————————————————————————

CONTRACT_PERMISSIONS = ("recognitions.add_techcontract", "recognitions.register_techcontract")


def may_register_contract(user, docking: Docking) -> bool:
    """Officers of the 技术合同 registry (the seller, a university, is not in the enterprise registry: its name and
    统一社会信用代码 are typed by the registry), on a signed or landed docking without a contract yet."""
    return (
        getattr(user, "is_authenticated", False)
        and all(user.has_perm(p) for p in CONTRACT_PERMISSIONS)
        and docking.state in (DockingState.SIGNED, DockingState.LANDED)
        and docking.tech_contract_id is None
    )


@transaction.atomic
def docking_contract_register(docking: Docking, data: dict, *, user, today: dt.date | None = None):
    """Apply for 技术合同认定登记 of a signed docking's contract (recognitions.contracts.contract_create, with the
    registry's own checks) and link it to the docking, with a dated note; both sides are told."""
    from kechuang.recognitions import contracts

    current = (
        Docking.objects.select_for_update(of=("self",))
        .select_related("demand__enterprise", "achievement", "talent")
        .get(pk=docking.pk)
    )
    if not all(user.has_perm(p) for p in CONTRACT_PERMISSIONS):
        raise PermissionDenied("仅技术合同登记机构的科委业务人员可以为对接登记技术合同")
    if current.state not in (DockingState.SIGNED, DockingState.LANDED):
        raise ValidationError(
            {"docking": f"对接当前为“{DOCKING_LABELS[current.state]}”，签约后才能登记技术合同"}
        )
    if current.tech_contract_id is not None:
        raise ValidationError({"docking": f"该对接已登记技术合同“{current.tech_contract}”，不能重复登记"})
    contract = contracts.contract_create(data, user=user, enterprise=None)
    current.tech_contract = contract
    _history(current, user, f"申请技术合同认定登记：{contract.contract_no}").save()
    text = f"已申请技术合同认定登记（合同编号 {contract.contract_no}，成交额 {format_wan(contract.total_amount)} 万元）"
    DockingNote.objects.create(
        docking=current, on=today or timezone.localdate(), text=text, state=current.state, author=_actor(user)
    )
    _notify_sides(current, "申请技术合同认定登记", text, actor=user)
    docking.tech_contract = contract
    return contract
