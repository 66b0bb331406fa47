"""Abuse checks: each flag raised with its reason in Chinese, and the near miss that must not raise it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kechuang.vouchers import abuse, redemptions
from kechuang.vouchers.models import AbuseFlag, Provider, Voucher
from tests.vouchers.conftest import TODAY, issue, make_provider, make_scheme, redeem_args

pytestmark = pytest.mark.django_db


def kinds(redemption) -> list[str]:
    return sorted(redemption.flags.values_list("kind", flat=True))


# --- normalisation ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("上海市松江区文诚路500号", "松江区文诚路５００号"),
        ("上海市松江区文诚路 500 号", "上海松江区文诚路500號"),
        ("松江区广富林路658弄12号", "松江区广富林路６５８衖１２号"),
        ("中国上海市松江区文诚路500号，3楼", "松江区文诚路500号3楼"),
    ],
)
def test_addresses_written_differently_are_one_address(a, b):
    assert abuse.normalise_address(a) == abuse.normalise_address(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("松江区文诚路500号", "松江区文诚路501号"),
        ("松江区广富林路658弄12号", "松江区广富林路658弄13号"),
        ("松江区广富林路658弄12号", "松江区广富林路658号12弄"),
        ("松江区文诚路1-101室", "松江区文诚路1101室"),
    ],
)
def test_addresses_differing_by_a_number_stay_apart(a, b):
    assert abuse.normalise_address(a) != abuse.normalise_address(b)


def test_names_are_compared_without_spaces_dots_or_width():
    assert abuse.normalise_person("张 伟") == abuse.normalise_person("张伟")
    assert abuse.normalise_person("Ｊｏｈｎ·Ｓｍｉｔｈ") == abuse.normalise_person("john smith")
    assert abuse.normalise_person("张伟") != abuse.normalise_person("张玮")
    assert abuse.normalise_person("") == ""


# --- related parties ----------------------------------------------------------------------------------------------------


def test_a_provider_with_the_enterprise_s_own_code_is_flagged(voucher, personas, officer):
    own = make_provider(5, uscc=personas.ent_a.uscc, name="上海甲科技有限公司")
    r = redemptions.redeem(**redeem_args(voucher, own), user=officer)
    assert kinds(r) == ["same_uscc"]
    assert r.flags.get().reason == (
        f"服务机构“上海甲科技有限公司”与持券企业“上海甲科技有限公司”的统一社会信用代码相同（{personas.ent_a.uscc}），为同一主体"
    )


def test_a_provider_linked_to_the_enterprise_in_the_registry_is_flagged(voucher, personas, officer):
    linked = make_provider(6, enterprise=personas.ent_a)
    r = redemptions.redeem(**redeem_args(voucher, linked), user=officer)
    assert (
        kinds(r) == ["same_uscc"]
        and "在企业库中关联的企业即持券企业“上海甲科技有限公司”" in r.flags.get().reason
    )


def test_another_enterprise_s_code_or_link_is_not_flagged(voucher, personas, officer):
    other = make_provider(7, enterprise=personas.ent_b)
    assert kinds(redemptions.redeem(**redeem_args(voucher, other), user=officer)) == []


def test_the_same_legal_representative_is_flagged_however_written(redeem, personas, provider):
    Provider.objects.filter(pk=provider.pk).update(legal_representative="欧阳 明远")
    personas.ent_a.legal_representative = "欧阳明远"
    personas.ent_a.save()
    r = redeem()
    assert kinds(r) == ["same_legal_rep"]
    assert r.flags.get().reason == (
        f"服务机构“{provider.name}”的法定代表人“欧阳 明远”与持券企业“上海甲科技有限公司”的法定代表人“欧阳明远”为同一人"
    )


def test_a_different_or_missing_legal_representative_is_not_flagged(redeem, personas, provider):
    personas.ent_a.legal_representative = "欧阳明达"
    personas.ent_a.save()
    assert kinds(redeem(invoice_no="L1")) == []
    Provider.objects.filter(pk=provider.pk).update(legal_representative="")
    personas.ent_a.legal_representative = ""
    personas.ent_a.save()
    assert kinds(redeem(invoice_no="L2")) == []  # both blank: nothing to compare


def test_the_same_address_is_flagged_however_written(redeem, personas, provider):
    Provider.objects.filter(pk=provider.pk).update(address="松江区文诚路 ５００ 號")
    personas.ent_a.address = "上海市松江区文诚路500号"
    personas.ent_a.save()
    r = redeem()
    assert kinds(r) == ["same_address"]
    assert r.flags.get().reason.endswith("相同（规范化后均为“松江区文诚路500号”）")


def test_an_address_differing_by_a_number_is_not_flagged(redeem, personas, provider):
    Provider.objects.filter(pk=provider.pk).update(address="上海市松江区文诚路501号")
    personas.ent_a.address = "上海市松江区文诚路500号"
    personas.ent_a.save()
    assert kinds(redeem()) == []


# --- invoices -----------------------------------------------------------------------------------------------------------


def test_the_same_invoice_number_and_amount_with_another_provider_is_flagged(redeem, voucher, officer):
    first = redeem()
    other = make_provider(2)
    second = redemptions.redeem(**redeem_args(voucher, other, contract_no="FW-B"), user=officer)
    assert kinds(second) == ["duplicate_invoice"] and kinds(first) == []
    reason = second.flags.get().reason
    assert reason.startswith(
        f"发票号码 26312000000000000001、金额 16,000.00 元已在兑付 #{first.pk}（服务机构“{first.provider.name}”"
    )


def test_the_same_number_with_another_amount_or_a_refused_twin_is_not_flagged(redeem, voucher, officer):
    first = redeem()
    other = make_provider(2)
    different = redemptions.redeem(**redeem_args(voucher, other, invoice_amount="16000.01"), user=officer)
    assert kinds(different) == []
    redemptions.redemption_refuse(first, reason="作废", user=officer)
    redemptions.redemption_refuse(different, reason="作废", user=officer)
    third = make_provider(3)
    assert kinds(redemptions.redeem(**redeem_args(voucher, third), user=officer)) == []


# --- the cap across the year ------------------------------------------------------------------------------------------


def _two_vouchers(personas, officer, alice):
    """Enterprise A holds 150,000 + 100,000 in the scheme (cap 200,000): the second application was flagged over
    the cap and an officer cleared it, so that both were issued."""
    from kechuang.vouchers import services

    scheme = make_scheme()
    first = issue(scheme, personas.ent_a, alice, officer, "150000")
    application = services.application_save(
        enterprise=personas.ent_a, scheme=scheme, requested_amount="100000", purpose="追加", user=alice
    )
    services.application_submit(application, user=alice)
    abuse.flag_resolve(application.flags.get(), upheld=False, note="经研究同意追加", user=officer)
    return first, services.application_approve(application, user=officer)


def test_use_over_the_cap_across_the_year_s_vouchers_is_flagged_and_exactly_the_cap_is_not(
    personas, officer, alice, provider, pat
):
    first, second = _two_vouchers(personas, officer, alice)
    big = {"invoice_amount": "300000", "contract_amount": "300000"}
    assert kinds(redemptions.redeem(**redeem_args(first, provider, invoice_no="Y1", **big), user=pat)) == []
    at_cap = redemptions.redeem(
        **redeem_args(second, provider, invoice_no="Y2", amount="50000", **big), user=pat
    )
    assert kinds(at_cap) == []  # 150,000 + 50,000 = 200,000: the cap itself
    elsewhere = make_provider(2)  # not a third claim with the same provider (that is a burst)
    over = redemptions.redeem(
        **redeem_args(second, elsewhere, invoice_no="Y3", amount="0.01", **big), user=officer
    )
    assert kinds(over) == ["over_cap"]
    assert over.flags.get().reason == (
        f"“上海甲科技有限公司”{TODAY.year}年度各创新券累计使用 200,000.01 元，超过每家企业上限 200,000.00 元"
        "（超出 0.01 元）"
    )


def test_vouchers_of_another_year_do_not_count_towards_the_cap(personas, officer, alice, provider, pat):
    last_year = make_scheme(
        year=TODAY.year - 1,
        name="上年度",
        opens_on=TODAY - dt.timedelta(days=30),
        valid_until=TODAY + dt.timedelta(days=180),
    )
    old = issue(last_year, personas.ent_a, alice, officer, "200000")
    this_year = issue(make_scheme(), personas.ent_a, alice, officer, "200000")
    big = {"invoice_amount": "400000", "contract_amount": "400000"}
    redemptions.redeem(**redeem_args(old, provider, invoice_no="P1", **big), user=pat)
    assert (
        kinds(redemptions.redeem(**redeem_args(this_year, provider, invoice_no="P2", **big), user=pat)) == []
    )


# --- bursts -------------------------------------------------------------------------------------------------------------


def _back_from(voucher, start):
    """The voucher issued a day before `start`, so that claims submitted from then on are in order; returns the
    redeem keyword for an invoice of that day."""
    Voucher.objects.filter(pk=voucher.pk).update(issued_at=start - dt.timedelta(days=1))
    return timezone.localtime(start).date()


def test_three_redemptions_with_one_provider_within_72_hours_are_a_burst(redeem, voucher):
    start = timezone.now() - dt.timedelta(hours=71)
    day = _back_from(voucher, start)
    first = redeem(invoice_no="T1", invoice_date=day, now=start)
    second = redeem(invoice_no="T2", invoice_date=day, now=start + dt.timedelta(hours=30))
    third = redeem(invoice_no="T3", invoice_date=day, now=start + dt.timedelta(hours=71))
    assert kinds(first) == kinds(second) == [] and kinds(third) == ["burst"]
    assert "72 小时内为“上海甲科技有限公司”提交兑付 3 笔（含本笔）" in third.flags.get().reason


def test_a_third_redemption_just_past_the_window_is_not_a_burst(redeem, voucher):
    start = timezone.now() - dt.timedelta(hours=73)
    day = _back_from(voucher, start)
    redeem(invoice_no="U1", invoice_date=day, now=start)
    redeem(invoice_no="U2", invoice_date=day, now=start + dt.timedelta(hours=1))
    late = redeem(invoice_no="U3", invoice_date=day, now=start + dt.timedelta(hours=72, seconds=1))
    assert kinds(late) == []


def test_refused_redemptions_do_not_count_towards_a_burst(redeem, officer):
    redemptions.redemption_refuse(redeem(invoice_no="V1"), reason="作废", user=officer)
    redeem(invoice_no="V2")
    assert kinds(redeem(invoice_no="V3")) == []


def test_another_enterprise_s_redemptions_do_not_count_towards_a_burst(
    personas, officer, provider, pat, voucher
):
    from django.contrib.auth.models import User

    from kechuang.enterprises.models import Membership

    bea = User.objects.create_user("bea")
    bea.groups.add(*User.objects.get(pk=personas.alice.pk).groups.all())
    Membership.objects.create(user=bea, enterprise=personas.ent_b)
    other = issue(voucher.scheme, personas.ent_b, User.objects.get(pk=bea.pk), officer)
    redemptions.redeem(**redeem_args(voucher, provider, invoice_no="W1"), user=pat)
    redemptions.redeem(**redeem_args(other, provider, invoice_no="W2"), user=pat)
    third = redemptions.redeem(**redeem_args(voucher, provider, invoice_no="W3"), user=pat)
    assert kinds(third) == []


def test_open_flags_are_listed_until_resolved(redeem, personas, provider, officer):
    from kechuang.vouchers import selectors

    Provider.objects.filter(pk=provider.pk).update(address="松江区X路1号")
    personas.ent_a.address = "松江区X路1号"
    personas.ent_a.save()
    r = redeem()
    assert [f.redemption_id for f in selectors.flags(selectors.FlagFilters(), user=officer)] == [r.pk]
    abuse.flag_resolve(AbuseFlag.objects.get(), upheld=False, note="同一园区不同楼", user=officer)
    assert not selectors.flags(selectors.FlagFilters(), user=officer).exists()
    resolved = selectors.flags(selectors.FlagFilters(resolution="cleared"), user=officer).get()
    assert resolved.resolved_by == officer and resolved.resolution_note == "同一园区不同楼"
