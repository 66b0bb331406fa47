"""Writes of calls (申报批次): create and update with their form (申报书), score sheet (评分表) and eligibility
(申报条件) validated; open and close through the workflow engine ("projects.call").

The form definition is a list of sections:

    [{"key": "basic", "title": "项目基本信息", "description": "…",
      "show_if": {"field": "<key of a field in an earlier section>", "equals": <value>},   # optional
      "fields": [{"key": "summary", "label": "项目简介", "type": "textarea", "required": true,
                  "max_length": 2000, "help": "…"},
                 {"key": "track", "label": "申报方向", "type": "choice", "required": true,
                  "choices": ["联合攻关", "医药卫生", "科技农业"]}]}]

Field keys are unique across the whole form (an application's `data` is {field key: value}). A conditional
section is shown when the field it names (in an EARLIER section, of type choice or boolean) has the given
value; its fields are required only while it is shown. The score sheet is [{"key", "label", "max", "weight"}]:
keys unique, max > 0, weights > 0 summing to 100.

Every problem is a Chinese message naming the section and field (by number and key) and the value; nothing is
saved when any is found.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kechuang.projects.eligibility import RULES
from kechuang.projects.models import Call, Programme
from kechuang.workflows import engine

WORKFLOW = "projects.call"
# The call's transitions this module takes (declared in projects/workflows.py).
OPEN, CLOSE = "open", "close"

FIELD_TYPES = {
    "text": "单行文本",
    "textarea": "多行文本",
    "number": "数字",
    "money": "金额（元）",
    "date": "日期",
    "choice": "单选",
    "multichoice": "多选",
    "file": "附件",
    "boolean": "是/否",
}
CHOICE_TYPES = ("choice", "multichoice")
TEXT_TYPES = ("text", "textarea")
CONDITION_TYPES = ("choice", "boolean")  # what a conditional section may depend on
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
KEY_RULE = "须以小写字母开头，只含小写字母、数字和下划线，最长 40 个字符"
SECTION_KEYS = {"key", "title", "description", "fields", "show_if"}
FIELD_KEYS = {"key", "label", "type", "required", "choices", "max_length", "help"}
CRITERION_KEYS = {"key", "label", "max", "weight", "description"}
MAX_LENGTH_LIMIT = 20000
WEIGHT_TOTAL = Decimal(100)


def _section_name(number: int, section: Any) -> str:
    if isinstance(section, dict) and section.get("title"):
        return f"第 {number} 部分“{section['title']}”"
    return f"第 {number} 部分"


def _field_name(where: str, number: int, field: Any) -> str:
    label = field.get("label") if isinstance(field, dict) else None
    key = field.get("key") if isinstance(field, dict) else None
    named = f"“{label}”" if label else ""
    keyed = f"（{key}）" if key else ""
    return f"{where}第 {number} 个字段{named}{keyed}"


def form_definition_errors(form: Any) -> list[str]:
    """What is wrong with a form definition, in Chinese (empty when nothing)."""
    if not isinstance(form, list):
        return ["申报书定义须为部分（section）的列表"]
    if not form:
        return ["申报书至少须有一个部分"]
    problems: list[str] = []
    section_keys: set[str] = set()
    fields_before: dict[str, dict] = {}  # fields of earlier sections, by key
    for s_number, section in enumerate(form, 1):
        where = _section_name(s_number, section)
        if not isinstance(section, dict):
            problems.append(f"{where}须为对象")
            continue
        unknown = set(section) - SECTION_KEYS
        if unknown:
            problems.append(f"{where}有未知的设置 {sorted(unknown)}，可用 {sorted(SECTION_KEYS)}")
        key = section.get("key")
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            problems.append(f"{where}的代码 {key!r} 不合规：{KEY_RULE}")
        elif key in section_keys:
            problems.append(f"{where}的代码“{key}”与前面的部分重复")
        else:
            section_keys.add(key)
        if not str(section.get("title") or "").strip():
            problems.append(f"{where}须填写标题")
        problems += _show_if_errors(where, section.get("show_if"), fields_before)
        fields = section.get("fields")
        if not isinstance(fields, list) or not fields:
            problems.append(f"{where}至少须有一个字段")
            continue
        this_section: dict[str, dict] = {}
        for f_number, field in enumerate(fields, 1):
            name = _field_name(where, f_number, field)
            if not isinstance(field, dict):
                problems.append(f"{name}须为对象")
                continue
            problems += _field_errors(name, field)
            f_key = field.get("key")
            if isinstance(f_key, str) and KEY_PATTERN.match(f_key):
                if f_key in fields_before or f_key in this_section:
                    problems.append(f"{name}的代码“{f_key}”与前面的字段重复（字段代码在整个申报书内须唯一）")
                else:
                    this_section[f_key] = field
        fields_before |= this_section
    return problems


def _field_errors(name: str, field: dict) -> list[str]:
    problems = []
    unknown = set(field) - FIELD_KEYS
    if unknown:
        problems.append(f"{name}有未知的设置 {sorted(unknown)}，可用 {sorted(FIELD_KEYS)}")
    key = field.get("key")
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        problems.append(f"{name}的代码 {key!r} 不合规：{KEY_RULE}")
    if not str(field.get("label") or "").strip():
        problems.append(f"{name}须填写名称")
    kind = field.get("type")
    if kind not in FIELD_TYPES:
        allowed = "、".join(f"{k}（{v}）" for k, v in FIELD_TYPES.items())
        problems.append(f"{name}的类型 {kind!r} 不支持，可用：{allowed}")
    if "required" in field and not isinstance(field["required"], bool):
        problems.append(f"{name}的“必填”须为是或否（true/false），收到 {field['required']!r}")
    choices = field.get("choices")
    if kind in CHOICE_TYPES:
        if not isinstance(choices, list) or not choices:
            problems.append(f"{name}是{FIELD_TYPES[kind]}字段，须列出至少一个选项")
        else:
            texts = [c.strip() if isinstance(c, str) else c for c in choices]
            if any(not isinstance(c, str) or not c for c in texts):
                problems.append(f"{name}的选项须为非空文字，收到 {choices!r}")
            elif len(set(texts)) != len(texts):
                repeated = sorted({c for c in texts if texts.count(c) > 1})
                problems.append(f"{name}的选项重复：{'、'.join(repeated)}")
    elif choices not in (None, []):
        problems.append(f"{name}不是单选/多选字段，不能设置选项")
    max_length = field.get("max_length")
    if max_length is not None:
        if kind not in TEXT_TYPES:
            problems.append(f"{name}不是文本字段，不能设置最大长度")
        elif (
            isinstance(max_length, bool)
            or not isinstance(max_length, int)
            or not 0 < max_length <= MAX_LENGTH_LIMIT
        ):
            problems.append(f"{name}的最大长度 {max_length!r} 须为 1–{MAX_LENGTH_LIMIT} 的整数")
    return problems


def _show_if_errors(where: str, show_if: Any, fields_before: dict[str, dict]) -> list[str]:
    if show_if in (None, {}):
        return []
    if not isinstance(show_if, dict) or set(show_if) != {"field", "equals"}:
        return [f'{where}的显示条件须为 {{"field": 字段代码, "equals": 取值}}，收到 {show_if!r}']
    key, value = show_if["field"], show_if["equals"]
    target = fields_before.get(key)
    if target is None:
        return [f"{where}的显示条件引用的字段“{key}”不在前面的部分中（只能依据前面部分的字段）"]
    kind = target.get("type")
    if kind not in CONDITION_TYPES:
        return [
            f"{where}的显示条件引用的字段“{target.get('label', key)}”（{key}）是{FIELD_TYPES.get(kind, kind)}字段，"
            "只能依据单选或是/否字段"
        ]
    if kind == "boolean" and not isinstance(value, bool):
        return [
            f"{where}的显示条件：字段“{target.get('label', key)}”是是/否字段，取值须为 true 或 false，收到 {value!r}"
        ]
    if kind == "choice" and value not in (target.get("choices") or []):
        options = "、".join(str(c) for c in target.get("choices") or [])
        return [f"{where}的显示条件：取值 {value!r} 不是字段“{target.get('label', key)}”的选项（{options}）"]
    return []


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def score_sheet_errors(sheet: Any) -> list[str]:
    """What is wrong with a score sheet, in Chinese (empty when nothing). An empty sheet is allowed while the
    call is drafted; opening needs one (see call_ready_refusal)."""
    if not isinstance(sheet, list):
        return ["评分表须为评分项的列表"]
    problems: list[str] = []
    keys: set[str] = set()
    total = Decimal(0)
    weights_ok = True
    for number, item in enumerate(sheet, 1):
        label = item.get("label") if isinstance(item, dict) else None
        where = f"评分表第 {number} 项" + (f"“{label}”" if label else "")
        if not isinstance(item, dict):
            problems.append(f"{where}须为对象")
            weights_ok = False
            continue
        unknown = set(item) - CRITERION_KEYS
        if unknown:
            problems.append(f"{where}有未知的设置 {sorted(unknown)}，可用 {sorted(CRITERION_KEYS)}")
        key = item.get("key")
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            problems.append(f"{where}的代码 {key!r} 不合规：{KEY_RULE}")
        elif key in keys:
            problems.append(f"{where}的代码“{key}”与前面的评分项重复")
        else:
            keys.add(key)
        if not str(label or "").strip():
            problems.append(f"{where}须填写名称")
        top = _decimal(item.get("max"))
        if top is None or top <= 0:
            problems.append(f"{where}的满分 {item.get('max')!r} 须为大于 0 的数")
        weight = _decimal(item.get("weight"))
        if weight is None or weight <= 0:
            problems.append(f"{where}的权重 {item.get('weight')!r} 须为大于 0 的数")
            weights_ok = False
        else:
            total += weight
    if sheet and weights_ok and total != WEIGHT_TOTAL:
        problems.append(f"评分表各项权重之和须为 100，现为 {total.normalize():f}")
    return problems


def eligibility_errors(items: Any) -> list[str]:
    if not isinstance(items, list):
        return ['申报条件须为 [{"rule": 条件代码, "label": 说明}] 的列表']
    problems: list[str] = []
    seen: set[str] = set()
    for number, item in enumerate(items, 1):
        where = f"申报条件第 {number} 条"
        if not isinstance(item, dict) or set(item) - {"rule", "label"}:
            problems.append(f'{where}须为 {{"rule": 条件代码, "label": 说明}}，收到 {item!r}')
            continue
        rule = item.get("rule")
        if rule not in RULES:
            available = "、".join(f"{code}（{r.label}）" for code, r in RULES.items())
            problems.append(f"{where}的条件代码 {rule!r} 不存在，可用：{available}")
        elif rule in seen:
            problems.append(f"{where}“{RULES[rule].label}”重复")
        else:
            seen.add(rule)
    return problems


def definition_errors(*, form: Any, score_sheet: Any, eligibility: Any) -> dict[str, list[str]]:
    errors = {
        "form": form_definition_errors(form),
        "score_sheet": score_sheet_errors(score_sheet),
        "eligibility": eligibility_errors(eligibility),
    }
    return {name: problems for name, problems in errors.items() if problems}


def _money(value: Any, field: str, label: str, errors: dict) -> Decimal | None:
    number = _decimal(str(value).replace(",", "") if value is not None else None)
    if number is None:
        errors[field] = f"{label}“{value}”不是数字"
    elif number <= 0:
        errors[field] = f"{label}须大于 0，收到 {number}"
    elif number != number.quantize(Decimal("0.01")):
        errors[field] = f"{label} {number} 最多两位小数（元、角、分）"
    elif number >= Decimal(10) ** 14:
        errors[field] = f"{label} {number} 元超过上限，请检查单位（此处填元）"
    return number


def _clean_call(values: dict) -> dict:
    """Validates the call's values together; raises ValidationError {field: message or [messages]}."""
    errors: dict[str, Any] = {}
    if not str(values.get("title") or "").strip():
        errors["title"] = "须填写名称"
    if not str(values.get("guide") or "").strip():
        errors["guide"] = "须填写申报指南"
    year = values.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        errors["year"] = f"年度 {year!r} 须为 2000–2100 的整数"
    budget = _money(values.get("budget_total"), "budget_total", "总预算", errors)
    cap = _money(values.get("cap_per_project"), "cap_per_project", "单项资助上限", errors)
    if (
        budget is not None
        and cap is not None
        and "budget_total" not in errors
        and "cap_per_project" not in errors
    ):
        if cap > budget:
            errors["cap_per_project"] = f"单项资助上限 {cap:,.2f} 元不能超过总预算 {budget:,.2f} 元"
    opens, closes = values.get("opens_at"), values.get("closes_at")
    if opens is None:
        errors["opens_at"] = "须填写开始受理时间"
    if closes is None:
        errors["closes_at"] = "须填写截止时间"
    if opens is not None and closes is not None:
        if timezone.is_naive(opens) or timezone.is_naive(closes):
            errors["closes_at"] = "时间须带时区"
        elif closes <= opens:
            errors["closes_at"] = f"截止时间 {_when(closes)} 须晚于开始受理时间 {_when(opens)}"
    experts = values.get("experts_per_application", 5)
    if isinstance(experts, bool) or not isinstance(experts, int) or not 1 <= experts <= 50:
        errors["experts_per_application"] = f"每项评审专家数 {experts!r} 须为 1–50 的整数"
    errors |= definition_errors(
        form=values.get("form"), score_sheet=values.get("score_sheet"), eligibility=values.get("eligibility")
    )
    if errors:
        raise ValidationError(errors)
    values["budget_total"], values["cap_per_project"] = budget, cap
    values["title"] = values["title"].strip()
    return values


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


CALL_FIELDS = (
    "year",
    "title",
    "guide",
    "budget_total",
    "cap_per_project",
    "opens_at",
    "closes_at",
    "eligibility",
    "form",
    "score_sheet",
    "experts_per_application",
)


def programme_family(pk: int) -> list[int]:
    """A programme's id and those of its sub-programmes at any depth (a call list filtered by a programme)."""
    ids, frontier = [pk], [pk]
    while frontier:
        frontier = list(Programme.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        ids += frontier
    return ids


@transaction.atomic
def call_create(*, programme: Programme, user=None, **values) -> Call:
    """A new call in the initial state of "projects.call" (草稿), with its definitions validated."""
    unknown = set(values) - set(CALL_FIELDS)
    if unknown:
        raise TypeError(f"unknown call fields {sorted(unknown)}")
    values.setdefault("eligibility", [])
    values.setdefault("score_sheet", [])
    values.setdefault("experts_per_application", 5)
    values = _clean_call(dict(values))
    call = Call(programme=programme, **values)
    engine.start(call, WORKFLOW)
    call.save()
    return call


def _locked_fields(call: Call) -> dict[str, str]:
    """Fields that may no longer change, with why."""
    from kechuang.projects.models import Score

    locked: dict[str, str] = {}
    count = call.applications.count()
    if count:
        why = f"本批次已有 {count} 份申报，不能再修改"
        for name in ("form", "eligibility", "cap_per_project", "opens_at"):
            locked[name] = why
    if Score.objects.filter(assignment__application__call=call).exists():
        locked["score_sheet"] = "专家已开始评分，评分表不能再修改"
    return locked


@transaction.atomic
def call_update(call: Call, *, user=None, **changes) -> Call:
    """Changes a call. Once it has applications, its form, eligibility, cap and opening time are fixed (an
    applicant's answers and eligibility were given against them); once scoring has begun, the score sheet is."""
    unknown = set(changes) - set(CALL_FIELDS) - {"programme"}
    if unknown:
        raise TypeError(f"unknown call fields {sorted(unknown)}")
    call = Call.objects.select_for_update().get(pk=call.pk)
    errors: dict[str, str] = {}
    for name, why in _locked_fields(call).items():
        if name in changes and changes[name] != getattr(call, name):
            errors[name] = why
    if errors:
        raise ValidationError(errors)
    values = {name: changes.get(name, getattr(call, name)) for name in CALL_FIELDS}
    values = _clean_call(values)
    if "programme" in changes:
        call.programme = changes["programme"]
    for name, value in values.items():
        setattr(call, name, value)
    call.save()
    return call


def call_open(call: Call, *, user, reason: str = "") -> Call:
    return engine.take(call, OPEN, user, reason)


def call_close(call: Call, *, user, reason: str = "") -> Call:
    return engine.take(call, CLOSE, user, reason)


def open_state(call: Call) -> str:
    """The state the call's workflow version moves to when it opens (where applications are accepted)."""
    for t in call.workflow.definition["transitions"]:
        if t["name"] == OPEN:
            return t["to"]
    return "open"


def accepting_refusal(call: Call, now=None) -> str | None:
    """Why `call` does not accept applications at `now`, or None when it does.

    The rule: open (its workflow state) and opens_at ≤ now ≤ closes_at — the deadline itself is inside (a
    submission stamped exactly at 截止时间 is accepted, one a second later is not)."""
    now = now or timezone.now()
    if call.state != open_state(call):
        return f"“{call}”不在受理期（当前状态：{engine.state_label(call)}）"
    if now < call.opens_at:
        return f"“{call}”尚未开始受理，{_when(call.opens_at)} 起受理"
    if now > call.closes_at:
        return f"“{call}”已于 {_when(call.closes_at)} 截止受理"
    return None


def open_calls(now=None):
    """Calls accepting applications now (state and dates), soonest deadline first."""
    now = now or timezone.now()
    candidates = Call.objects.filter(opens_at__lte=now, closes_at__gte=now).select_related(
        "programme", "workflow"
    )
    return [c for c in candidates.order_by("closes_at") if c.state == open_state(c)]


def field_index(form: list) -> dict[str, dict]:
    """{field key: field} of a (valid) form definition."""
    return {f["key"]: f for s in form for f in s.get("fields", [])}
