"""Redemptions: a provider claims part of a voucher against a contract and invoice; the voucher's part is
share × invoice (to the 分) within the balance; every refusal in Chinese with nothing changed; an invoice used
once per provider and a balance never exceeded — also under concurrent requests on PostgreSQL, and held by the
database when the service is bypassed; verification, refusal (the balance given back) and the inbox."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import F, Sum

from kechuang.vouchers import abuse, redemptions, services
from kechuang.vouchers.models import AbuseFlag, Redemption, Voucher
from kechuang.workflows import selectors as workflow_selectors
from tests.vouchers.conftest import TODAY, issue, make_provider, make_scheme, provider_user, redeem_args

pytestmark = pytest.mark.django_db


def messages_of(excinfo) -> str:
    return "；".join(excinfo.value.messages)


def assert_unchanged(voucher, used="0", count=0):
    voucher.refresh_from_db()
    assert voucher.used == Decimal(used)
    assert Redemption.objects.count() == count
    assert AbuseFlag.objects.filter(redemption__isnull=False).count() == 0 or count


def test_a_redemption_takes_the_share_of_the_invoice_from_the_balance(redeem, voucher, provider, pat):
    r = redeem(invoice_no=" ２６３１ 2000 0000 0000 0001 ", invoice_amount="16000.05")
    voucher.refresh_from_db()
    assert r.state == "submitted" and r.voucher_part == Decimal("8000.02")  # 8000.025 rounded down
    assert r.invoice_no == "26312000000000000001" and r.provider_uscc == provider.uscc
    assert r.enterprise_part == Decimal("8000.03") and r.submitted_by == pat
    assert voucher.used == Decimal("8000.02") and voucher.balance == Decimal("91999.98")
    assert not r.flags.exists() and r.history.get().history_user == pat


def test_the_last_part_is_capped_at_the_balance_and_then_the_voucher_is_spent(redeem, voucher):
    redeem(invoice_no="A1", invoice_amount="190000", contract_amount="190000")  # 95,000
    r = redeem(invoice_no="A2", invoice_amount="20000")  # share 10,000, balance 5,000
    assert r.voucher_part == Decimal("5000.00")
    voucher.refresh_from_db()
    assert voucher.used == voucher.amount
    with pytest.raises(ValidationError) as excinfo:
        redeem(invoice_no="A3", invoice_amount="100")
    assert f"创新券 {voucher.number} 余额为 0 元（券面 100,000.00 元已全部使用），不能兑付" in messages_of(
        excinfo
    )
    assert Redemption.objects.count() == 2


def test_asking_beyond_the_balance_names_balance_and_ask_and_changes_nothing(redeem, voucher):
    redeem(invoice_no="B1", invoice_amount="180000", contract_amount="180000")  # 90,000 used
    with pytest.raises(ValidationError) as excinfo:
        redeem(invoice_no="B2", invoice_amount="30000", contract_amount="30000", amount="10000.01")
    assert excinfo.value.message_dict["amount"] == [
        f"本次抵扣 10,000.01 元超过创新券 {voucher.number} 的余额 10,000.00 元（券面 100,000.00 元，已使用 90,000.00 元）"
    ]
    assert_unchanged(voucher, "90000", 1)
    assert redeem(
        invoice_no="B2", invoice_amount="30000", contract_amount="30000", amount="10000"
    ).voucher_part == Decimal("10000.00")


def test_asking_beyond_the_share_is_refused(redeem, voucher):
    with pytest.raises(ValidationError) as excinfo:
        redeem(invoice_amount="16000", amount="8000.01")
    assert excinfo.value.message_dict["amount"] == [
        "本次抵扣 8,000.01 元超过发票金额 16,000.00 元的 50%（至多 8,000.00 元）"
    ]
    assert_unchanged(voucher)


def test_an_invoice_reused_with_the_same_provider_names_the_earlier_redemption(redeem, voucher):
    first = redeem()
    with pytest.raises(ValidationError) as excinfo:
        redeem(invoice_no="2631 2000 0000 0000 0001", contract_no="FW-另一份")
    message = excinfo.value.message_dict["invoice_no"][0]
    assert message.startswith(f"发票 26312000000000000001 已用于兑付 #{first.pk}（创新券 {voucher.number}，")
    assert message.endswith("当前“待核验”），同一张发票不能重复兑付")
    assert_unchanged(voucher, "8000", 1)


def test_a_refused_redemption_frees_its_invoice_and_gives_the_balance_back(redeem, voucher, officer):
    first = redeem()
    redemptions.redemption_refuse(first, reason="发票与合同不符", user=officer)
    voucher.refresh_from_db()
    assert voucher.used == 0
    first.refresh_from_db()
    assert first.state == "refused" and first.refusal_reason == "发票与合同不符"
    again = redeem()
    assert again.state == "submitted" and again.voucher_part == Decimal("8000.00")


def test_an_expired_voucher_is_refused_and_its_last_day_is_not(redeem, voucher):
    Voucher.objects.filter(pk=voucher.pk).update(valid_until=TODAY)
    assert redeem(invoice_no="C1").state == "submitted"
    Voucher.objects.filter(pk=voucher.pk).update(valid_until=TODAY - dt.timedelta(days=1))
    with pytest.raises(ValidationError) as excinfo:
        redeem(invoice_no="C2", invoice_date=TODAY - dt.timedelta(days=1))
    assert f"创新券 {voucher.number} 已于 {TODAY - dt.timedelta(days=1)} 到期，不能兑付" in messages_of(
        excinfo
    )
    assert_unchanged(voucher, "8000", 1)


def test_a_suspended_provider_is_refused(redeem, voucher, provider, officer):
    services.provider_suspend(provider, reason="检测报告造假，立案调查", user=officer)
    with pytest.raises(ValidationError) as excinfo:
        redeem()
    assert excinfo.value.message_dict["provider"] == [
        f"服务机构“{provider.name}”已暂停（原因：检测报告造假，立案调查），不能兑付"
    ]
    assert_unchanged(voucher)


def test_a_service_the_provider_does_not_offer_is_refused(redeem, voucher, provider):
    other = make_provider(2)
    with pytest.raises(ValidationError) as excinfo:
        redeem(service=other.services.get(name="材料成分分析"))
    assert excinfo.value.message_dict["service"] == [f"服务机构“{provider.name}”未提供服务“材料成分分析”"]
    provider.services.filter(name="电磁兼容检测").update(active=False)
    with pytest.raises(ValidationError) as excinfo:
        redeem()
    assert excinfo.value.message_dict["service"] == [f"服务机构“{provider.name}”的服务“电磁兼容检测”已下架"]
    assert_unchanged(voucher)


@pytest.mark.parametrize(
    ("overrides", "field", "expected"),
    [
        (
            {"enterprise_uscc": "91310117MA1J000029"},
            "voucher_number",
            "不属于统一社会信用代码为 91310117MA1J000029 的企业",
        ),
        ({"voucher_number": "CXQ-1999-1-0001"}, "voucher_number", "券号“CXQ-1999-1-0001”不存在"),
        (
            {"invoice_date": TODAY + dt.timedelta(days=1)},
            "invoice_date",
            f"开票日期 {TODAY + dt.timedelta(days=1)} 晚于今天 {TODAY}",
        ),
        ({"invoice_date": TODAY - dt.timedelta(days=1)}, "invoice_date", "发券前购买的服务不能兑付"),
        ({"invoice_amount": "20000.01"}, "invoice_amount", "发票金额 20,000.01 元超过合同金额 20,000.00 元"),
        ({"invoice_no": "NO.123"}, "invoice_no", "发票号码“NO.123”只能由数字、大写字母和“-”组成"),
        ({"contract_no": ""}, "contract_no", "服务合同编号必须填写"),
        ({"invoice_amount": "abc"}, "invoice_amount", "发票金额“abc”不是数字"),
    ],
)
def test_other_refusals_name_field_and_value(redeem, voucher, overrides, field, expected):
    with pytest.raises(ValidationError) as excinfo:
        redeem(**overrides)
    assert any(expected in m for m in excinfo.value.message_dict[field]), excinfo.value.message_dict
    assert_unchanged(voucher)


def test_only_the_provider_s_users_or_officers_enter_redemptions(redeem, voucher, alice, officer, personas):
    other = make_provider(2)
    stranger = provider_user(other, "sam")
    for user in (stranger, alice, personas.leo):
        with pytest.raises(PermissionDenied):
            redeem(user=user)
    assert_unchanged(voucher)
    assert redeem(user=officer).submitted_by == officer  # 代为录入


# --- verification and refusal --------------------------------------------------------------------------------------


def test_verify_then_refuse_before_settlement(redeem, voucher, officer, pat):
    r = redeem()
    with pytest.raises(PermissionDenied):
        redemptions.redemption_verify(r, user=pat)
    redemptions.redemption_verify(r, user=officer, note="合同发票一致")
    r.refresh_from_db()
    assert r.state == "verified" and r.verified_by == officer and r.verified_at
    with pytest.raises(ValidationError) as excinfo:
        redemptions.redemption_refuse(r, reason="", user=officer)
    assert "不予兑付须写明理由" in messages_of(excinfo)
    redemptions.redemption_refuse(r, reason="复核发现服务未实际提供", user=officer)
    voucher.refresh_from_db()
    assert voucher.used == 0
    with pytest.raises(ValidationError) as excinfo:
        redemptions.redemption_refuse(r, reason="再次", user=officer)
    assert "当前状态“不予兑付”不能执行“不予兑付”" in messages_of(excinfo)
    voucher.refresh_from_db()
    assert voucher.used == 0  # not given back twice


def test_the_inbox_refuses_through_the_service_with_its_reason(redeem, voucher, officer):
    r = redeem()
    with pytest.raises(ValidationError):
        workflow_selectors.take("vouchers.redemption", r, "refuse", officer, "")
    workflow_selectors.take("vouchers.redemption", r, "refuse", officer, "发票作废")
    voucher.refresh_from_db()
    assert voucher.used == 0


def test_an_open_flag_blocks_verification_until_resolved(redeem, voucher, provider, officer, personas):
    personas.ent_a.legal_representative = provider.legal_representative
    personas.ent_a.save()
    r = redeem()
    flag = r.flags.get()
    with pytest.raises(ValidationError) as excinfo:
        redemptions.redemption_verify(r, user=officer)
    assert "尚有 1 条异常预警未处理（关联方：同一法定代表人），须先核实处理" in messages_of(excinfo)
    r.refresh_from_db()
    assert r.state == "submitted"
    with pytest.raises(ValidationError) as excinfo:
        abuse.flag_resolve(flag, upheld=False, note=" ", user=officer)
    assert "处理预警须写明核实情况" in messages_of(excinfo)
    abuse.flag_resolve(flag, upheld=False, note="同名不同人，已核对身份证号", user=officer)
    redemptions.redemption_verify(r, user=officer)
    r.refresh_from_db()
    assert r.state == "verified"
    with pytest.raises(ValidationError) as excinfo:
        abuse.flag_resolve(flag, upheld=True, note="改判", user=officer)
    assert "处理为“核实无误”，不能重复处理" in messages_of(excinfo)


def test_upholding_a_flag_refuses_the_redemption_and_closes_its_other_flags(
    redeem, voucher, provider, officer, personas
):
    personas.ent_a.legal_representative = provider.legal_representative
    personas.ent_a.address = provider.address
    personas.ent_a.save()
    r = redeem()
    rep, place = r.flags.get(kind="same_legal_rep"), r.flags.get(kind="same_address")
    abuse.flag_resolve(rep, upheld=True, note="实为关联企业", user=officer)
    r.refresh_from_db()
    place.refresh_from_db()
    voucher.refresh_from_db()
    assert r.state == "refused" and "实为关联企业" in r.refusal_reason and voucher.used == 0
    assert place.resolution == "closed" and place.resolution_note == "已不予兑付，预警随之关闭"


# --- the database's own guarantees ----------------------------------------------------------------------------------


def test_the_database_refuses_a_used_total_beyond_the_amount(voucher):
    with pytest.raises(IntegrityError), transaction.atomic():
        Voucher.objects.filter(pk=voucher.pk).update(used=F("amount") + Decimal("0.01"))


def test_the_database_refuses_a_second_standing_redemption_of_an_invoice(redeem, voucher, provider):
    first = redeem()
    with pytest.raises(IntegrityError), transaction.atomic():
        Redemption.objects.create(
            workflow=first.workflow,
            state="submitted",
            voucher=voucher,
            provider=provider,
            provider_uscc=provider.uscc,
            service=first.service,
            contract_no="X",
            contract_amount=Decimal("10"),
            invoice_no=first.invoice_no,
            invoice_date=TODAY,
            invoice_amount=Decimal("10"),
            voucher_part=Decimal("5"),
        )


# --- concurrency (PostgreSQL) ---------------------------------------------------------------------------------------


def _race(jobs: list[dict], user_pk: int) -> tuple[list[Decimal], list[str], list[str]]:
    """Each job a redemption from its own thread and connection, all released at once."""
    barrier = threading.Barrier(len(jobs))
    done, refused, crashed = [], [], []
    lock = threading.Lock()

    def worker(job):
        try:
            user = User.objects.get(pk=user_pk)
            barrier.wait(timeout=30)
            try:
                r = redemptions.redeem(**job, user=user)
            except ValidationError as error:
                with lock:
                    refused.append("；".join(error.messages))
            else:
                with lock:
                    done.append(r.voucher_part)
        except Exception as error:  # anything else is a failure of the test
            with lock:
                crashed.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a redemption thread hung"
    return done, refused, crashed


def _books_balance(voucher) -> None:
    voucher.refresh_from_db()
    standing = Redemption.objects.filter(voucher=voucher).exclude(state="refused")
    assert (standing.aggregate(t=Sum("voucher_part"))["t"] or 0) == voucher.used
    assert voucher.used <= voucher.amount


@pytest.mark.django_db(transaction=True)
def test_concurrent_redemptions_never_exceed_the_balance(personas, provider, pat):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent row locks are tested on PostgreSQL")
    from kechuang.core import roles  # noqa: F401  (roles are synced by the personas fixture)

    scheme = make_scheme()
    voucher = issue(
        scheme, personas.ent_a, User.objects.get(pk=personas.alice.pk), User.objects.get(pk=personas.carol.pk)
    )
    service = provider.services.get(name="电磁兼容检测")
    # 12 requests of 15,000 each (invoices of 30,000 at 50%) on 100,000: six fit, the seventh would be 105,000.
    jobs = [
        redeem_args(
            voucher,
            provider,
            service=service,
            invoice_no=f"R{n:03d}",
            invoice_amount="30000",
            contract_amount="30000",
            amount="15000",
        )
        for n in range(12)
    ]
    done, refused, crashed = _race(jobs, pat.pk)
    print(f"\n12 concurrent redemptions of 15,000 on 100,000: {len(done)} accepted, {len(refused)} refused")
    assert not crashed, crashed
    assert len(done) == 6 and len(refused) == 6
    assert all("超过创新券" in r and "的余额 10,000.00 元" in r for r in refused)
    _books_balance(voucher)
    assert voucher.used == Decimal("90000.00")


@pytest.mark.django_db(transaction=True)
def test_concurrent_redemptions_of_one_invoice_stand_once(personas, provider, pat):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent row locks are tested on PostgreSQL")
    scheme = make_scheme()
    voucher = issue(
        scheme, personas.ent_a, User.objects.get(pk=personas.alice.pk), User.objects.get(pk=personas.carol.pk)
    )
    jobs = [redeem_args(voucher, provider, contract_no=f"FW-{n}") for n in range(8)]
    done, refused, crashed = _race(jobs, pat.pk)
    assert not crashed, crashed
    assert len(done) == 1 and len(refused) == 7
    assert all("同一张发票不能重复兑付" in r for r in refused)
    _books_balance(voucher)
    assert voucher.used == Decimal("8000.00")
