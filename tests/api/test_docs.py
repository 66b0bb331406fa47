"""The OpenAPI document and the Swagger UI page, which must work offline (no CDN), and CSRF on writes."""

import re

import pytest
from django.test import Client

from kechuang.core.api_security import CSRF_FAILED
from kechuang.core.uscc import make_code
from kechuang.enterprises.figures import FIGURES_BY_NAME
from kechuang.enterprises.models import Enterprise


@pytest.fixture
def openapi(db, client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_document_lists_the_registry_paths(openapi):
    assert {
        "/api/enterprises",
        "/api/enterprises/{enterprise_id}",
        "/api/enterprises/{enterprise_id}/years",
        "/api/enterprises/{enterprise_id}/years/{pk}",
        "/api/enterprises/{enterprise_id}/ip-assets",
        "/api/enterprises/{enterprise_id}/ip-assets/{pk}",
        "/api/enterprises/{enterprise_id}/qualifications",
        "/api/enterprises/{enterprise_id}/qualifications/{pk}",
    } <= set(openapi["paths"])


@pytest.mark.parametrize("schema", ["EnterpriseYearOut", "EnterpriseYearCreate", "EnterpriseYearPatch"])
def test_money_and_staff_are_documented_with_their_unit_and_definition(openapi, schema):
    properties = openapi["components"]["schemas"][schema]["properties"]

    revenue = properties["sales_revenue"]["description"]
    assert "单位：元" in revenue and FIGURES_BY_NAME["sales_revenue"].definition in revenue
    assert "单位：人" in properties["employees"]["description"]


def test_errors_are_documented(openapi):
    patch = openapi["paths"]["/api/enterprises/{enterprise_id}"]["patch"]["responses"]

    assert {"200", "401", "403", "404", "422"} <= set(patch)
    assert patch["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ValidationErrors")
    error = openapi["components"]["schemas"]["FieldError"]["properties"]
    assert set(error) == {"field", "message", "code"}
    assert "422" in openapi["info"]["description"]


def test_the_read_only_fields_are_in_the_output_only(openapi):
    schemas = openapi["components"]["schemas"]

    assert {"ip_class", "is_used_for_hnte"} <= set(schemas["IPAssetOut"]["properties"])
    assert not {"ip_class", "is_used_for_hnte"} & set(schemas["IPAssetPatch"]["properties"])
    assert {"is_valid_today", "days_to_expiry"} <= set(schemas["QualificationOut"]["properties"])


def test_the_docs_page_loads_nothing_from_the_internet(db, client):
    response = client.get("/api/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), html
    scripts = re.findall(r"""<script[^>]*src=["']([^"']+)["']""", html)
    assert any(s.endswith("swagger-ui-bundle.js") for s in scripts)
    for url in scripts + re.findall(r"""<link[^>]*href=["']([^"']+)["']""", html):
        assert client.get(url).status_code == 200, url


def test_a_write_without_the_csrf_token_is_refused(personas):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.carol)
    body = {"uscc": make_code("91310117MA1J00009"), "name": "上海丙信息有限公司"}

    refused = client.post("/api/enterprises", body, content_type="application/json")

    assert refused.status_code == 403
    assert refused.json() == {"detail": CSRF_FAILED}
    assert Enterprise.objects.count() == 2

    client.get("/api/docs")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        "/api/enterprises", body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert accepted.status_code == 201
    assert Enterprise.objects.count() == 3
