"""The personas of the root conftest, each enterprise with a year, an IP asset and a qualification."""

from datetime import date
from decimal import Decimal

import pytest


@pytest.fixture
def registry(personas):
    from kechuang.enterprises.models import EnterpriseYear, IPAsset, Qualification

    p = personas
    for suffix, enterprise in (("a", p.ent_a), ("b", p.ent_b)):
        setattr(
            p,
            f"year_{suffix}",
            EnterpriseYear.objects.create(
                enterprise=enterprise,
                year=2023,
                employees=Decimal("10"),
                rd_staff=Decimal("2"),
                sales_revenue=Decimal("1234.50"),
            ),
        )
        setattr(
            p,
            f"ip_{suffix}",
            IPAsset.objects.create(
                enterprise=enterprise,
                ip_type="invention",
                number=f"ZL2020100000{enterprise.pk}",
                title="一种装置",
                application_date=date(2020, 1, 1),
                grant_date=date(2021, 6, 1),
            ),
        )
        setattr(
            p,
            f"qual_{suffix}",
            Qualification.objects.create(
                enterprise=enterprise, kind="hnte", issue_date=date(2023, 12, 1), certificate_no="GR2023"
            ),
        )
    return p


@pytest.fixture
def api_client(client):
    """The test client, logged in as whoever `as_(user)` names (None: anonymous)."""

    class ApiClient:
        def as_(self, user):
            client.logout()
            if user is not None:
                client.force_login(user)
            return self

        def get(self, url, **params):
            return client.get(url, params)

        def post(self, url, body):
            return client.post(url, body, content_type="application/json")

        def patch(self, url, body):
            return client.patch(url, body, content_type="application/json")

        def delete(self, url):
            return client.delete(url)

        def call(self, method, url, body=None):
            if method == "GET":
                return client.get(url)
            if method == "DELETE":
                return client.delete(url)
            return getattr(self, method.lower())(url, body)

    return ApiClient()
