"""`kechuang demo_vouchers`: the 2026-style scheme with its catalogue, applications in several states, vouchers,
redemptions, a settlement and one abuse flag of each kind; idempotent; the provider demo account where the public
demo accounts exist."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from kechuang.vouchers.models import (
    AbuseFlag,
    FlagKind,
    Provider,
    Redemption,
    Settlement,
    Voucher,
    VoucherApplication,
    VoucherScheme,
)

pytestmark = pytest.mark.django_db


def test_the_demo_has_one_flag_of_each_kind_and_runs_once():
    call_command("demo", "--enterprises", "40", stdout=io.StringIO())
    call_command("demo_accounts", "--force", stdout=io.StringIO())
    out = io.StringIO()
    call_command("demo_vouchers", stdout=out)
    text = out.getvalue()
    assert "服务机构 13 家" in text and "结算 1 次" in text and "示例服务机构账号：provider" in text
    scheme = VoucherScheme.objects.get()
    assert scheme.state == "open" and Provider.objects.count() == 13
    assert Voucher.objects.count() == 8 and VoucherApplication.objects.count() == 11
    assert set(VoucherApplication.objects.values_list("state", flat=True)) == {
        "approved",
        "submitted",
        "draft",
    }
    assert {"submitted", "verified", "settled", "refused"} <= set(
        Redemption.objects.values_list("state", flat=True)
    )
    for kind in FlagKind.values:
        assert AbuseFlag.objects.filter(kind=kind).exists(), kind
    assert AbuseFlag.objects.filter(resolution="").count() >= len(FlagKind.values)
    assert Settlement.objects.get().total == sum(line.amount for line in Settlement.objects.get().lines.all())
    for v in Voucher.objects.all():
        standing = Redemption.objects.filter(voucher=v).exclude(state="refused")
        assert sum(r.voucher_part for r in standing) == v.used
    provider = User.objects.get(username="provider")
    assert provider.check_password("kechuang-demo") and provider.voucher_providers.count() == 1

    again = io.StringIO()
    call_command("demo_vouchers", stdout=again)
    assert "已存在，未重复生成" in again.getvalue()
    assert Redemption.objects.count() == 13 and VoucherScheme.objects.count() == 1


def test_without_demo_enterprises_only_the_catalogue_is_made():
    out = io.StringIO()
    call_command("demo_vouchers", stdout=out)
    assert "未生成申请、创新券和兑付" in out.getvalue()
    assert Provider.objects.count() == 12 and not Voucher.objects.exists()
