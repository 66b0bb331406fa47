"""Fixtures of the voucher tests: an open scheme of this year, a listed provider with its services and its user
(the 服务机构 role), and a voucher of 100,000.00 元 for enterprise A (alice's), issued through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from kechuang.core import roles
from kechuang.core.uscc import make_code
from kechuang.vouchers import redemptions, services
from kechuang.vouchers.models import Provider, ProviderMember, ProviderService, SchemeState, VoucherScheme

TODAY = timezone.localdate()


def make_scheme(**overrides) -> VoucherScheme:
    values = {
        "year": TODAY.year,
        "name": "科技创新券（测试）",
        "budget_total": Decimal("1000000"),
        "cap_per_enterprise": Decimal("200000"),
        "share_pct": Decimal("50"),
        "opens_on": TODAY - dt.timedelta(days=30),
        "closes_on": TODAY + dt.timedelta(days=30),
        "valid_until": TODAY + dt.timedelta(days=180),
        "state": SchemeState.OPEN,
    } | overrides
    return VoucherScheme.objects.create(**values)


def make_provider(number: int = 1, **overrides) -> Provider:
    values = {
        "name": f"上海测试检测技术有限公司{number}",
        "uscc": make_code(f"91310117MA7Q{number:05d}"),
        "legal_representative": f"欧阳测{number}",
        "address": f"上海市松江区测试路{100 + number}号",
        "kind": "testing",
    } | overrides
    provider = Provider.objects.create(**values)
    ProviderService.objects.create(
        provider=provider, name="电磁兼容检测", category="testing", unit_price=Decimal("8000"), unit="项"
    )
    ProviderService.objects.create(
        provider=provider, name="材料成分分析", category="testing", unit_price=Decimal("1200"), unit="样"
    )
    return provider


def provider_user(provider: Provider, username: str) -> User:
    user = User.objects.create_user(username, password="pass-" + username)
    user.groups.add(Group.objects.get(name=roles.PROVIDER.name))
    ProviderMember.objects.create(user=user, provider=provider)
    return User.objects.get(pk=user.pk)


def issue(scheme, enterprise, member, officer, amount="100000") -> object:
    """A voucher through the services: applied for, submitted and approved."""
    application = services.application_save(
        enterprise=enterprise, scheme=scheme, requested_amount=amount, purpose="委托检测新产品", user=member
    )
    services.application_submit(application, user=member)
    return services.application_approve(application, user=officer)


def redeem_args(voucher, provider, **overrides) -> dict:
    values = {
        "voucher_number": voucher.number,
        "enterprise_uscc": voucher.enterprise.uscc,
        "provider": provider,
        "service": provider.services.get(name="电磁兼容检测"),
        "contract_no": "FW-2026-0001",
        "contract_amount": "20000",
        "invoice_no": "26312000000000000001",
        "invoice_date": TODAY,
        "invoice_amount": "16000",
    }
    return values | overrides


@pytest.fixture
def officer(personas):
    return User.objects.get(pk=personas.carol.pk)


@pytest.fixture
def alice(personas):
    return User.objects.get(pk=personas.alice.pk)


@pytest.fixture
def scheme(db):
    return make_scheme()


@pytest.fixture
def provider(db):
    return make_provider(1)


@pytest.fixture
def pat(personas, provider):
    """The provider's user (服务机构)."""
    return provider_user(provider, "pat")


@pytest.fixture
def voucher(personas, scheme, officer, alice):
    return issue(scheme, personas.ent_a, alice, officer)


@pytest.fixture
def redeem(voucher, provider, pat):
    """redeem(**overrides): a redemption on alice's voucher by pat for the provider."""

    def run(**overrides):
        args = redeem_args(voucher, provider, **overrides)
        user = args.pop("user", pat)
        return redemptions.redeem(**args, user=user)

    return run
