"""Dockings (services.py): started from a recommendation with the engine's score and explanation stored, by
either side or an officer, between published postings, once per pair; moved 推荐 → 联系 → 洽谈 → 签约 (date and
amount) → 落地 (date), each step with a dated note; declined at any step before 落地 with a structured reason;
both sides told by e-mail; the indicator's count (selectors.successful_dockings). Every refusal is checked with
nothing changed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from kechuang.matching import selectors, services
from kechuang.matching.models import Docking, DockingNote
from tests.matching import fixtures as f

mf = f.mf
pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(mf):
    mf.demand = f.published_demand(mf)
    mf.achievement = f.published_achievement(mf)
    return mf


def docking(p, **kwargs):
    return services.docking_create(p.demand, user=p.alice, achievement=p.achievement, **kwargs)


def today() -> dt.date:
    return timezone.localdate()


def walk(p, d, *names, on=None):
    for name in names:
        extra = {"amount": "500000"} if name == "sign" else {}
        services.docking_step(d, name, user=p.alice, on=on or today(), text=f"{name} 记录", **extra)
    return Docking.objects.get(pk=d.pk)


# —— starting ————————————————————————————————————————————————————————————————————————————————————————————————


def test_a_docking_stores_the_engine_s_score_and_explanation_and_a_first_note(pair):
    d = docking(pair)
    assert d.state == "recommended" and d.created_by == pair.alice
    assert d.score is not None and d.score > 0
    assert d.explanation["field"] is True and d.explanation["terms"] and d.explanation["text"]
    [note] = d.notes.all()
    assert note.state == "recommended" and note.on == today() and note.text.startswith("由推荐发起对接：")


def test_a_counterpart_outside_the_recommendations_is_stored_without_a_score(pair):
    other = f.publish(pair, f.achievement(pair, **f.UNRELATED))
    d = services.docking_create(pair.demand, user=pair.alice, achievement=other, note="企业点名要求对接")
    assert d.score is None and d.explanation["terms"] == [] and d.explanation["field"] is False
    assert d.notes.get().text == "企业点名要求对接"


def test_either_side_or_an_officer_starts_a_docking_others_may_not(pair):
    with pytest.raises(PermissionDenied, match="仅需求方、成果方或科委业务人员可以发起对接"):
        services.docking_create(pair.demand, user=pair.ben, achievement=pair.achievement)
    with pytest.raises(PermissionDenied):
        services.docking_create(pair.demand, user=pair.vic, achievement=pair.achievement)
    with pytest.raises(PermissionDenied):
        services.docking_create(pair.demand, user=pair.leo, achievement=pair.achievement)
    assert not Docking.objects.exists()
    assert services.docking_create(pair.demand, user=pair.uma, achievement=pair.achievement).pk


def test_an_officer_starts_a_docking(pair):
    assert (
        services.docking_create(pair.demand, user=pair.carol, achievement=pair.achievement).created_by
        == pair.carol
    )


def test_both_postings_must_be_published(pair):
    draft = f.achievement(pair, title="未发布的成果")
    with pytest.raises(ValidationError) as excinfo:
        services.docking_create(pair.demand, user=pair.alice, achievement=draft)
    assert excinfo.value.message_dict == {
        "counterpart": ["成果“未发布的成果”当前为“草稿”，只有已发布的需求与成果可以对接"]
    }
    assert not Docking.objects.exists()


def test_a_pair_is_docked_once(pair):
    first = docking(pair)
    with pytest.raises(ValidationError) as excinfo:
        docking(pair)
    assert excinfo.value.message_dict == {
        "counterpart": [
            f"该需求与成果“伺服电机高效散热结构”已有对接记录（编号 {first.pk}，推荐），不能重复发起"
        ]
    }
    assert Docking.objects.count() == 1


def test_exactly_one_counterpart(pair):
    talent = f.published_talent(pair)
    with pytest.raises(ValidationError) as excinfo:
        services.docking_create(pair.demand, user=pair.alice, achievement=pair.achievement, talent=talent)
    assert excinfo.value.message_dict == {"counterpart": ["对接须对应一项成果或一个专家团队（二者选一）"]}
    with pytest.raises(ValidationError):
        services.docking_create(pair.demand, user=pair.alice)
    assert not Docking.objects.exists()
    assert services.docking_create(pair.demand, user=pair.alice, talent=talent).talent == talent


def test_both_sides_are_notified_but_not_the_one_who_acted(
    pair, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        docking(pair)
    assert sorted(m.to[0] for m in mailoutbox) == ["uma@example.org"]
    mailoutbox.clear()
    d = Docking.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.docking_step(d, "contact", user=pair.carol, on=today(), text="已电话联系")
    assert sorted(m.to[0] for m in mailoutbox) == ["alice@example.org", "uma@example.org"]
    assert "已联系" in mailoutbox[0].subject and "已电话联系" in mailoutbox[0].body


# —— steps ———————————————————————————————————————————————————————————————————————————————————————————————————


def test_a_docking_goes_to_signed_and_landed_with_dated_notes(pair):
    d = docking(pair)
    d = walk(pair, d, "contact", "negotiate")
    services.docking_step(d, "sign", user=pair.uma, on=today(), text="签订技术开发合同", amount="1,200,000")
    d.refresh_from_db()
    assert (d.state, d.signed_on, d.contract_amount) == ("signed", today(), Decimal("1200000.00"))
    services.docking_step(d, "land", user=pair.alice, on=today(), text="样机通过验证")
    d.refresh_from_db()
    assert d.state == "landed" and d.landed_on == today()
    assert [n.state for n in d.notes.order_by("on", "pk")] == [
        "recommended",
        "contacted",
        "negotiating",
        "signed",
        "landed",
    ]
    assert d.history.first().history_change_reason == f"落地：{today()}"


def test_steps_are_taken_in_order(pair):
    d = docking(pair)
    with pytest.raises(ValidationError) as excinfo:
        services.docking_step(d, "sign", user=pair.alice, on=today(), text="跳过洽谈", amount="1")
    assert excinfo.value.message_dict == {"step": ["对接当前为“推荐”，不能执行“签约”"]}
    with pytest.raises(ValidationError) as excinfo:
        services.docking_step(d, "finish", user=pair.alice, on=today(), text="x")
    assert excinfo.value.message_dict["step"][0].startswith("没有操作“finish”，可选：contact（已联系）")
    assert Docking.objects.get(pk=d.pk).state == "recommended" and d.notes.count() == 1


def test_signing_needs_an_amount_above_zero(pair):
    d = walk(pair, docking(pair), "contact", "negotiate")
    for amount, message in (
        (None, "签约须填写合同金额（元）"),
        ("0", "合同金额须大于 0 元"),
        ("-5", "合同金额 -5 元为负数，金额不能为负"),
        ("abc", "合同金额“abc”不是数字（单位：元）"),
    ):
        with pytest.raises(ValidationError) as excinfo:
            services.docking_step(d, "sign", user=pair.alice, on=today(), text="签约", amount=amount)
        assert excinfo.value.message_dict == {"amount": [message]}
    d.refresh_from_db()
    assert d.state == "negotiating" and d.signed_on is None and d.notes.count() == 3
    services.docking_step(d, "sign", user=pair.alice, on=today(), text="签约", amount="0.01")
    assert Docking.objects.get(pk=d.pk).contract_amount == Decimal("0.01")


def test_a_step_needs_its_note_and_a_date_neither_future_nor_before_the_last_note(pair):
    d = docking(pair)
    with pytest.raises(ValidationError) as excinfo:
        services.docking_step(d, "contact", user=pair.alice, on=today(), text=" ")
    assert excinfo.value.message_dict == {"text": ["请填写“已联系”的对接记录（进展、约定或原因）"]}
    tomorrow = today() + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as excinfo:
        services.docking_step(d, "contact", user=pair.alice, on=tomorrow, text="x")
    assert excinfo.value.message_dict == {
        "on": [f"日期 {tomorrow} 晚于今天（{today()}），不能预填将来的进展"]
    }
    yesterday = today() - dt.timedelta(days=1)
    with pytest.raises(ValidationError) as excinfo:
        services.docking_step(d, "contact", user=pair.alice, on=yesterday, text="x")
    assert excinfo.value.message_dict == {"on": [f"日期 {yesterday} 早于上一条对接记录的日期 {today()}"]}
    with pytest.raises(ValidationError) as excinfo:
        services.docking_step(d, "contact", user=pair.alice, on=None, text="x")
    assert excinfo.value.message_dict == {"on": ["日期必须填写"]}
    assert Docking.objects.get(pk=d.pk).state == "recommended" and d.notes.count() == 1


def test_a_note_of_2000_characters_is_accepted_2001_refused(pair):
    d = docking(pair)
    with pytest.raises(ValidationError) as excinfo:
        services.docking_step(d, "contact", user=pair.alice, on=today(), text="记" * 2001)
    assert excinfo.value.message_dict == {"text": ["对接记录最多 2,000 字，现为 2,001 字"]}
    services.docking_step(d, "contact", user=pair.alice, on=today(), text="记" * 2000)
    assert Docking.objects.get(pk=d.pk).state == "contacted"


def test_only_the_two_sides_and_officers_move_a_docking(pair):
    d = docking(pair)
    for outsider in (pair.ben, pair.vic, pair.leo, pair.bob):
        with pytest.raises(PermissionDenied, match="仅对接双方或科委业务人员可以推进对接"):
            services.docking_step(d, "contact", user=outsider, on=today(), text="x")
    assert Docking.objects.get(pk=d.pk).state == "recommended"
    services.docking_step(d, "contact", user=pair.carol, on=today(), text="科委组织对接")
    assert Docking.objects.get(pk=d.pk).state == "contacted"


# —— declining ———————————————————————————————————————————————————————————————————————————————————————————————


def test_a_docking_is_declined_at_any_step_with_a_structured_reason(pair):
    d = walk(pair, docking(pair), "contact", "negotiate")
    with pytest.raises(ValidationError) as excinfo:
        services.docking_step(d, "decline", user=pair.uma, on=today(), text="报价过高")
    assert excinfo.value.message_dict["reason"][0].startswith(
        "未成须选择原因，可选：not_relevant（技术不对口）"
    )
    with pytest.raises(ValidationError) as excinfo:
        services.docking_step(d, "decline", user=pair.uma, on=today(), text="报价过高", reason="expensive")
    assert excinfo.value.message_dict["reason"][0].startswith("未成原因“expensive”不存在，可选：")
    assert Docking.objects.get(pk=d.pk).state == "negotiating"
    services.docking_step(
        d, "decline", user=pair.uma, on=today(), text="报价超出预算一倍", reason="too_costly"
    )
    d.refresh_from_db()
    assert (d.state, d.decline_reason, d.decline_note) == ("declined", "too_costly", "报价超出预算一倍")


def test_a_decline_note_over_500_characters_is_refused(pair):
    d = docking(pair)
    with pytest.raises(ValidationError) as excinfo:
        services.docking_step(d, "decline", user=pair.alice, on=today(), text="因" * 501, reason="other")
    assert excinfo.value.message_dict == {"text": ["对接记录最多 500 字，现为 501 字"]}
    assert Docking.objects.get(pk=d.pk).state == "recommended"


def test_a_declined_or_landed_docking_moves_no_more(pair):
    d = docking(pair)
    services.docking_step(d, "decline", user=pair.alice, on=today(), text="不对口", reason="not_relevant")
    with pytest.raises(ValidationError) as excinfo:
        services.docking_step(d, "contact", user=pair.alice, on=today(), text="x")
    assert excinfo.value.message_dict == {"step": ["对接当前为“未成”，不能执行“已联系”"]}
    with pytest.raises(ValidationError) as excinfo:
        services.docking_note_add(d, user=pair.alice, on=today(), text="x")
    assert excinfo.value.message_dict == {"text": ["对接已“未成”，不再添加记录"]}


def test_the_database_requires_a_reason_for_a_declined_docking(pair):
    d = docking(pair)
    with pytest.raises(IntegrityError), transaction.atomic():
        Docking.objects.filter(pk=d.pk).update(state="declined")
    with pytest.raises(IntegrityError), transaction.atomic():
        Docking.objects.filter(pk=d.pk).update(state="signed")


# —— notes ———————————————————————————————————————————————————————————————————————————————————————————————————


def test_a_plain_note_keeps_the_state(pair):
    d = docking(pair)
    note = services.docking_note_add(d, user=pair.uma, on=today(), text="已寄送样品")
    assert note.state == "recommended" and Docking.objects.get(pk=d.pk).state == "recommended"
    with pytest.raises(PermissionDenied):
        services.docking_note_add(d, user=pair.ben, on=today(), text="x")
    assert DockingNote.objects.filter(docking=d).count() == 2


# —— the indicator ——————————————————————————————————————————————————————————————————————————————————————————


def test_successful_dockings_counts_signed_and_landed_by_signing_year(pair):
    year = today().year
    signed = walk(pair, docking(pair), "contact", "negotiate", "sign")
    other = f.published_achievement(pair, title="伺服电机散热第二方案")
    landed = services.docking_create(pair.demand, user=pair.alice, achievement=other)
    walk(pair, landed, "contact", "negotiate", "sign", "land")
    third = f.published_achievement(pair, title="伺服电机散热第三方案")
    declined = services.docking_create(pair.demand, user=pair.alice, achievement=third)
    walk(pair, declined, "contact", "negotiate", "sign")
    services.docking_step(declined, "decline", user=pair.alice, on=today(), text="未落地", reason="other")
    assert selectors.successful_dockings(year) == 2
    assert selectors.successful_dockings(year - 1) == 0
    Docking.objects.filter(pk=signed.pk).update(signed_on=dt.date(year - 1, 12, 31))
    assert selectors.successful_dockings(year) == 1 and selectors.successful_dockings(year - 1) == 1
