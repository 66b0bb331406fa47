"""Writes of 技术合同认定登记 and its 履约跟踪: the seller's application, registration with the 16-digit 合同登记编号,
未予登记, withdrawal and cancellation, the payment plan and the payments recorded against it.

Every refusal is a ValidationError whose Chinese message names the field, the value and what is allowed; each
function is one transaction, so nothing is written when one is raised. State moves go through the workflow
engine (kechuang/recognitions/workflows.py), which logs who, when and why; the rows keep their history
(simple_history).

Rules (qualification-rules.md §8, civil-code-technology-contracts.md):
- five types (民法典第八百四十三条) and their sub-types (choices.SUB_TYPES, each with its article);
- one registration per contract (一次登记, 卖方登记): a second application for the same seller's 统一社会信用代码 and
  合同编号 is refused, naming the registration that exists, while the first is waiting or registered (the
  database's `tech_contract_unique_per_seller` holds it under concurrent requests); contract numbers compare
  half-width, without spaces, upper-case;
- 技术交易额 ≤ 成交额 (both in yuan; 成交额 > 0);
- the 合同登记编号 is 16 digits: given by the registry when registering, or issued here as 年份 + 行政区划代码 +
  当年序号 (config.REGISTRATION_NO_NOTE, 待核实);
- the payment plan's amounts add up to the 成交额, or the plan says why not (提成支付 cannot be known in advance);
  a payment never takes a milestone beyond its planned amount.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from kechuang.core import parsing, uscc
from kechuang.core.parsing import amount_text
from kechuang.enterprises.models import Enterprise
from kechuang.recognitions import config
from kechuang.recognitions import workflows as wf
from kechuang.recognitions.choices import (
    SUB_TYPES,
    TYPE_SOURCES,
    ContractType,
    PaymentMode,
    SubType,
    sub_type_labels,
)
from kechuang.recognitions.models import (
    CLOSED_CONTRACT_STATES,
    REGISTERED,
    PaymentMilestone,
    TechContract,
)
from kechuang.workflows import engine

REGISTRATION_NO = re.compile(r"^\d{16}$")
REGISTER_ATTEMPTS = 20
REGION = re.compile(r"^\d{6}$")
COUNTRY = re.compile(r"^[A-Z]{3}$")
TEXT_LIMITS = {"contract_no": ("合同编号", 60), "name": ("项目名称", 200), "seller_name": ("卖方名称", 200)}


# —— the application ————————————————————————————————————————————————————————————————————————————————


def _choice(errors, field: str, value: str, choices, label: str) -> str | None:
    labels = dict(choices)
    if value not in labels:
        allowed = "、".join(f"{v}（{k}）" for k, v in labels.items())
        errors.setdefault(field, []).append(f"{label}“{value}”不存在，可选：{allowed}")
        return None
    return value


def _uscc(errors, field: str, value: Any, label: str, *, required: bool) -> str:
    code = uscc.normalise(parsing.text(value))
    if not code:
        if required:
            errors.setdefault(field, []).append(f"{label}必须填写")
        return ""
    problem = uscc.uscc_error(code)
    if problem:
        errors.setdefault(field, []).append(f"{label}“{code}”有误：{problem}")
    return code


def duplicate_of(seller_uscc: str, contract_no: str, *, exclude_pk: int | None = None) -> TechContract | None:
    """The contract already submitted or registered for this seller and contract number, if any."""
    found = TechContract.objects.filter(seller_uscc=seller_uscc, contract_no=contract_no).exclude(
        state__in=CLOSED_CONTRACT_STATES
    )
    if exclude_pk is not None:
        found = found.exclude(pk=exclude_pk)
    return found.order_by("pk").first()


def duplicate_message(existing: TechContract) -> str:
    """Names the existing registration (or application) of the same contract."""
    who = f"卖方“{existing.seller_name}”（统一社会信用代码 {existing.seller_uscc}）的合同编号“{existing.contract_no}”"
    if existing.state == REGISTERED:
        return (
            f"{who}已于 {existing.registered_on:%Y-%m-%d} 完成认定登记，合同登记编号 {existing.registration_no}"
            f"（项目“{existing.name}”），同一合同只能登记一次，不能重复登记"
        )
    when = timezone.localtime(existing.submitted_at).strftime("%Y-%m-%d") if existing.submitted_at else ""
    return (
        f"{who}已于 {when} 申请认定登记（项目“{existing.name}”，状态：{engine.state_label(existing)}），"
        "正在办理中，不能重复申请"
    )


def contract_errors(data: dict[str, Any], *, enterprise: Enterprise | None = None) -> tuple[dict, dict]:
    """What is wrong with an application, field by field (empty when nothing), and the parsed values. With
    `enterprise` (the seller's own user applying) the seller is that enterprise."""
    errors: dict[str, list[str]] = {}
    parsed: dict[str, Any] = {}
    for field, (label, limit) in TEXT_LIMITS.items():
        value = parsing.code(data.get(field)) if field == "contract_no" else parsing.text(data.get(field))
        if not value and not (field == "seller_name" and enterprise is not None):
            errors.setdefault(field, []).append(f"{label}必须填写")
        elif len(value) > limit:
            errors.setdefault(field, []).append(f"{label}“{value[:20]}…”超过 {limit} 个字符")
        parsed[field] = value
    contract_type = _choice(
        errors, "contract_type", parsing.text(data.get("contract_type")), ContractType.choices, "合同类型"
    )
    sub_type = parsing.text(data.get("sub_type"))
    if contract_type:
        if sub_type not in SUB_TYPES[contract_type]:
            shown = dict(SubType.choices).get(sub_type, sub_type) or "（未填）"
            errors.setdefault("sub_type", []).append(
                f"合同子类“{shown}”不属于{ContractType(contract_type).label}合同，"
                f"{ContractType(contract_type).label}合同的子类为：{sub_type_labels(contract_type)}"
                f"（{TYPE_SOURCES[contract_type]}）"
            )
    parsed["contract_type"], parsed["sub_type"] = contract_type, sub_type
    if enterprise is not None:
        parsed["enterprise"] = enterprise
        parsed["seller_name"] = enterprise.name
        parsed["seller_uscc"] = enterprise.uscc
    else:
        parsed["seller_uscc"] = _uscc(
            errors, "seller_uscc", data.get("seller_uscc"), "卖方统一社会信用代码", required=True
        )
        linked = data.get("enterprise")
        if linked is not None and parsed["seller_uscc"] and linked.uscc != parsed["seller_uscc"]:
            errors.setdefault("enterprise", []).append(
                f"所选企业“{linked.name}”的统一社会信用代码为 {linked.uscc}，与卖方统一社会信用代码 "
                f"{parsed['seller_uscc']} 不一致"
            )
        # Linked to the registry by the seller's USCC when the seller is there.
        parsed["enterprise"] = linked or (
            Enterprise.objects.filter(uscc=parsed["seller_uscc"]).first() if parsed["seller_uscc"] else None
        )
    parsed["buyer_name"] = parsing.text(data.get("buyer_name"))
    if not parsed["buyer_name"]:
        errors.setdefault("buyer_name", []).append("买方名称必须填写")
    elif len(parsed["buyer_name"]) > 200:
        errors.setdefault("buyer_name", []).append("买方名称超过 200 个字符")
    parsed["buyer_uscc"] = _uscc(
        errors, "buyer_uscc", data.get("buyer_uscc"), "买方统一社会信用代码", required=False
    )
    country = parsing.code(data.get("buyer_country")) or "CHN"
    if not COUNTRY.match(country):
        errors.setdefault("buyer_country", []).append(
            f"买方国别“{country}”须为 3 位大写字母代码（境内为 CHN）"
        )
    parsed["buyer_country"] = country
    for field, label in (("seller_region", "卖方行政区划代码"), ("buyer_region", "买方行政区划代码")):
        region = parsing.code(data.get(field))
        if region and not REGION.match(region):
            errors.setdefault(field, []).append(f"{label}“{region}”须为 6 位数字（GB/T 2260）")
        parsed[field] = region
    if parsed["buyer_region"] and country != "CHN":
        errors.setdefault("buyer_region", []).append(
            f"境外买方（国别 {country}）不填行政区划代码，收到“{parsed['buyer_region']}”"
        )
    today = timezone.localdate()
    for field, label in (
        ("signed_on", "签订日期"),
        ("valid_from", "合同有效期自"),
        ("valid_to", "合同有效期至"),
    ):
        parsed[field] = parsing.collect(errors, field, parsing.date, data.get(field), label)
    if parsed["signed_on"] and parsed["signed_on"] > today:
        errors.setdefault("signed_on", []).append(f"签订日期 {parsed['signed_on']} 晚于今天 {today}")
    if parsed["valid_from"] and parsed["valid_to"] and parsed["valid_to"] < parsed["valid_from"]:
        errors.setdefault("valid_to", []).append(
            f"合同有效期至 {parsed['valid_to']} 早于有效期自 {parsed['valid_from']}"
        )
    total = parsing.collect(
        errors, "total_amount", parsing.money, data.get("total_amount"), "成交额", allow_zero=False
    )
    tech = parsing.collect(errors, "tech_amount", parsing.money, data.get("tech_amount"), "技术交易额")
    if total is not None and tech is not None and tech > total:
        errors.setdefault("tech_amount", []).append(
            f"技术交易额 {amount_text(tech)}超过成交额 {amount_text(total)}：技术交易额是成交额中技术部分的金额，"
            "不能超过成交额"
        )
    parsed["total_amount"], parsed["tech_amount"] = total, tech
    parsed["payment_mode"] = _choice(
        errors,
        "payment_mode",
        parsing.text(data.get("payment_mode")),
        PaymentMode.choices,
        "支付方式（民法典第八百四十六条）",
    )
    if parsed["seller_uscc"] and parsed["contract_no"] and "seller_uscc" not in errors:
        existing = duplicate_of(parsed["seller_uscc"], parsed["contract_no"])
        if existing is not None:
            errors.setdefault("contract_no", []).append(duplicate_message(existing))
    return errors, parsed


@transaction.atomic
def contract_create(data: dict[str, Any], *, user, enterprise: Enterprise | None = None) -> TechContract:
    """The seller's application for 认定登记 (state 待登记). Refused, with every problem named, when a field is
    wrong or the same contract was already submitted or registered."""
    errors, parsed = contract_errors(data, enterprise=enterprise)
    if errors:
        raise ValidationError(errors)
    contract = TechContract(
        **{k: v for k, v in parsed.items()},
        submitted_at=timezone.now(),
        is_demo=bool(data.get("is_demo")),
        created_by=parsing.actor(user),
    )
    engine.start(contract, wf.CONTRACT)
    try:
        with transaction.atomic():
            parsing.history_user(contract, user).save()
    except IntegrityError:
        # A concurrent application for the same contract got in between our check and the insert.
        existing = duplicate_of(parsed["seller_uscc"], parsed["contract_no"])
        if existing is None:
            raise
        raise ValidationError({"contract_no": duplicate_message(existing)}) from None
    return contract


# —— registration ————————————————————————————————————————————————————————————————————————————————————


def next_registration_no(year: int) -> str:
    """年份 + 行政区划代码 + 当年序号 (6 digits): one more than the highest issued this year with this prefix."""
    prefix = f"{year:04d}{config.region_code()}"
    last = (
        TechContract.objects.filter(registration_no__startswith=prefix)
        .order_by("-registration_no")
        .values_list("registration_no", flat=True)
        .first()
    )
    serial = int(last[len(prefix) :]) + 1 if last else 1
    if serial > 999_999:
        raise ValidationError({"registration_no": f"{year} 年的合同登记编号序号已用尽（{prefix}999999）"})
    return f"{prefix}{serial:06d}"


def _locked(contract: TechContract) -> TechContract:
    return TechContract.objects.select_for_update(of=("self",)).select_related("workflow").get(pk=contract.pk)


def _sync(target: TechContract, source: TechContract) -> TechContract:
    for name in ("state", "registration_no", "registered_on", "registered_by_id", "decision_note"):
        setattr(target, name, getattr(source, name))
    return target


def contract_register(
    contract: TechContract,
    *,
    user,
    registration_no: Any = None,
    registered_on: Any = None,
    today: dt.date | None = None,
) -> TechContract:
    """认定登记: the contract gets its 16-digit 合同登记编号 (the one the registry gives, or the next issued here)
    and its registration date (default today), and moves to 已登记. Refused when the number is not 16 digits or
    is taken, the date is in the future or before the signing, or the workflow refuses (permission, state)."""
    today = today or timezone.localdate()
    given = parsing.code(registration_no)
    for attempt in range(REGISTER_ATTEMPTS):
        try:
            with transaction.atomic():
                return _register(contract, user=user, given=given, registered_on=registered_on, today=today)
        except IntegrityError:
            # Registrations that took the same next number at once (there is no row to lock for a number not
            # issued yet): the one that lost takes the next.
            if given or attempt == REGISTER_ATTEMPTS - 1:
                taken = TechContract.objects.filter(registration_no=given).first() if given else None
                if taken is not None:
                    raise ValidationError(
                        {
                            "registration_no": f"合同登记编号 {given} 已用于“{taken.name}”（{taken.seller_name}）"
                        }
                    ) from None
                raise
    raise AssertionError("unreachable")


def _register(contract, *, user, given: str, registered_on, today: dt.date) -> TechContract:
    locked = _locked(contract)
    errors: dict[str, list[str]] = {}
    on = parsing.collect(errors, "registered_on", parsing.date, registered_on or today, "登记日期")
    if on and on > today:
        errors.setdefault("registered_on", []).append(f"登记日期 {on} 晚于今天 {today}")
    if on and on < locked.signed_on:
        errors.setdefault("registered_on", []).append(f"登记日期 {on} 早于合同签订日期 {locked.signed_on}")
    if given:
        if not REGISTRATION_NO.match(given):
            errors.setdefault("registration_no", []).append(
                f"合同登记编号“{given}”须为 16 位数字（现 {len(given)} 位）"
            )
        else:
            taken = TechContract.objects.filter(registration_no=given).exclude(pk=locked.pk).first()
            if taken is not None:
                errors.setdefault("registration_no", []).append(
                    f"合同登记编号 {given} 已用于“{taken.name}”（{taken.seller_name}）"
                )
    if locked.state != "submitted":
        errors.setdefault("state", []).append(
            f"合同当前状态为“{engine.state_label(locked)}”，只有“待登记”的合同可以登记"
        )
    if errors:
        raise ValidationError(errors)
    locked.registration_no = given or next_registration_no(on.year)
    locked.registered_on = on
    locked.registered_by = parsing.actor(user)
    parsing.history_user(locked, user).save(
        update_fields=["registration_no", "registered_on", "registered_by"]
    )
    engine.take(locked, wf.REGISTER, user, f"合同登记编号 {locked.registration_no}")
    return _sync(contract, locked)


def _decide(
    contract: TechContract, name: str, *, user, reason: Any, required: bool, label: str
) -> TechContract:
    reason = parsing.text(reason)
    if required and not reason:
        raise ValidationError({"reason": f"{label}须说明原因"})
    with transaction.atomic():
        locked = _locked(contract)
        if reason:
            locked.decision_note = reason
            parsing.history_user(locked, user).save(update_fields=["decision_note"])
        engine.take(locked, name, user, reason)
    return _sync(contract, locked)


def contract_refuse(contract: TechContract, *, user, reason: Any) -> TechContract:
    """未予登记, with the reason (the 2000 办法: the registry stamps non-qualifying contracts 未予登记)."""
    return _decide(contract, wf.REFUSE, user=user, reason=reason, required=True, label="未予登记")


def contract_withdraw(contract: TechContract, *, user, reason: Any = "") -> TechContract:
    """The seller withdraws an application still waiting."""
    return _decide(contract, wf.WITHDRAW, user=user, reason=reason, required=False, label="撤回")


def contract_cancel(contract: TechContract, *, user, reason: Any) -> TechContract:
    """注销登记 of a registered contract (terminated, revoked): it no longer counts in the year's 成交额."""
    return _decide(contract, wf.CANCEL, user=user, reason=reason, required=True, label="注销登记")


def contract_take(contract: TechContract, name: str, *, user, reason: str = "") -> TechContract:
    """A step as the workflow inbox takes it, through the service that does what the step needs."""
    if name == wf.REGISTER:
        return contract_register(contract, user=user)
    if name == wf.REFUSE:
        return contract_refuse(contract, user=user, reason=reason)
    if name == wf.CANCEL:
        return contract_cancel(contract, user=user, reason=reason)
    if name == wf.WITHDRAW:
        return contract_withdraw(contract, user=user, reason=reason)
    return engine.take(contract, name, user, reason)


# —— 履约跟踪: the payment plan and payments ————————————————————————————————————————————————————————————————

PLANNABLE_STATES = ("submitted", REGISTERED)


@transaction.atomic
def payment_plan_set(
    contract: TechContract, rows: list[dict], *, note: Any = "", user
) -> list[PaymentMilestone]:
    """Set the contract's payment plan (replacing the one it had): one milestone per row {due_date, amount,
    note}, numbered in date order. Refused when a payment has already been recorded, a row is wrong, or the
    amounts do not add up to the 成交额 and `note` does not say why."""
    locked = _locked(contract)
    errors: dict[str, list[str]] = {}
    if locked.state not in PLANNABLE_STATES:
        errors.setdefault("state", []).append(
            f"合同当前状态为“{engine.state_label(locked)}”，只有待登记或已登记的合同可以制定付款计划"
        )
    paid = locked.milestones.filter(paid_amount__gt=0).order_by("number").first()
    if paid is not None:
        errors.setdefault("milestones", []).append(
            f"第 {paid.number} 期已记录付款 {amount_text(paid.paid_amount)}，不能重新制定付款计划"
        )
    if not rows:
        errors.setdefault("milestones", []).append("付款计划至少须有一期")
    parsed = []
    for number, row in enumerate(rows, 1):
        where = f"第 {number} 期"
        due = parsing.collect(errors, "milestones", parsing.date, row.get("due_date"), f"{where}计划付款日期")
        amount = parsing.collect(
            errors, "milestones", parsing.money, row.get("amount"), f"{where}计划金额", allow_zero=False
        )
        if due and due < locked.signed_on:
            errors.setdefault("milestones", []).append(
                f"{where}计划付款日期 {due} 早于合同签订日期 {locked.signed_on}"
            )
        row_note = parsing.text(row.get("note"))
        if len(row_note) > 200:
            errors.setdefault("milestones", []).append(f"{where}说明超过 200 个字符")
        parsed.append((due, amount, row_note))
    note = parsing.text(note)
    if len(note) > 300:
        errors.setdefault("note", []).append("付款计划说明超过 300 个字符")
    if rows and not errors:
        planned = sum((amount for _, amount, _ in parsed), Decimal(0))
        if planned != locked.total_amount and not note:
            gap = planned - locked.total_amount
            errors.setdefault("note", []).append(
                f"各期计划金额合计 {amount_text(planned)}与成交额 {amount_text(locked.total_amount)}不一致"
                f"（{'多' if gap > 0 else '少'} {amount_text(abs(gap))}）：请调整各期金额，"
                "或在“付款计划说明”中写明原因（如提成支付的金额无法预先确定）"
            )
    if errors:
        raise ValidationError(errors)
    locked.milestones.all().delete()
    made = []
    for number, (due, amount, row_note) in enumerate(sorted(parsed, key=lambda r: r[0]), 1):
        m = PaymentMilestone(contract=locked, number=number, due_date=due, amount=amount, note=row_note)
        parsing.history_user(m, user).save()
        made.append(m)
    locked.plan_note = note
    parsing.history_user(locked, user).save(update_fields=["plan_note"])
    contract.plan_note = note
    return made


@transaction.atomic
def payment_record(
    milestone: PaymentMilestone, *, amount: Any, paid_on: Any, user, today: dt.date | None = None
) -> PaymentMilestone:
    """A payment received against a milestone of a registered contract: added to what it has been paid.
    Refused when the contract is not registered, the amount is not positive, the date is in the future or
    before the signing, or the milestone would be paid beyond its planned amount."""
    today = today or timezone.localdate()
    contract = _locked(milestone.contract)
    m = PaymentMilestone.objects.select_for_update().get(pk=milestone.pk)
    errors: dict[str, list[str]] = {}
    where = f"第 {m.number} 期"
    if contract.state != REGISTERED:
        errors.setdefault("state", []).append(
            f"合同当前状态为“{engine.state_label(contract)}”，登记后方可记录履约付款"
        )
    value = parsing.collect(errors, "amount", parsing.money, amount, "本次付款金额", allow_zero=False)
    on = parsing.collect(errors, "paid_on", parsing.date, paid_on, "付款日期")
    if on and on > today:
        errors.setdefault("paid_on", []).append(f"付款日期 {on} 晚于今天 {today}")
    if on and on < contract.signed_on:
        errors.setdefault("paid_on", []).append(f"付款日期 {on} 早于合同签订日期 {contract.signed_on}")
    if value is not None and m.paid_amount + value > m.amount:
        errors.setdefault("amount", []).append(
            f"本次付款 {amount_text(value)}后{where}累计 {amount_text(m.paid_amount + value)}，"
            f"超过{where}计划金额 {amount_text(m.amount)}（尚欠 {amount_text(m.amount - m.paid_amount)}）"
        )
    if errors:
        raise ValidationError(errors)
    latest = max(on, m.paid_on) if m.paid_on else on
    PaymentMilestone.objects.filter(pk=m.pk).update(paid_amount=F("paid_amount") + value, paid_on=latest)
    m.refresh_from_db()
    parsing.history_user(m, user).save()  # the history row of this payment, with who recorded it
    milestone.paid_amount, milestone.paid_on = m.paid_amount, m.paid_on
    return m
