"""Every write through the API is in django-simple-history, by the API caller, with reason "API"."""

from kechuang.enterprises.models import Enterprise, EnterpriseYear, IPAsset


def latest(model, pk):
    return model.history.filter(id=pk).order_by("-history_id").first()


def test_an_update_is_recorded_as_the_caller(registry, api_client):
    response = api_client.as_(registry.bob).patch(
        f"/api/enterprises/{registry.ent_a.pk}", {"main_business": "工业软件"}
    )

    assert response.status_code == 200
    record = latest(Enterprise, registry.ent_a.pk)
    assert (record.history_type, record.history_user, record.history_change_reason) == (
        "~",
        registry.bob,
        "API",
    )
    assert record.main_business == "工业软件"
    assert record.prev_record.main_business == ""


def test_a_creation_is_recorded_as_the_caller(registry, api_client):
    response = api_client.as_(registry.alice).post(
        f"/api/enterprises/{registry.ent_a.pk}/years", {"year": 2022, "employees": "8"}
    )

    assert response.status_code == 201
    record = latest(EnterpriseYear, response.json()["id"])
    assert (record.history_type, record.history_user, record.history_change_reason) == (
        "+",
        registry.alice,
        "API",
    )


def test_a_deletion_is_recorded_as_the_caller(registry, api_client):
    url = f"/api/enterprises/{registry.ent_b.pk}/ip-assets/{registry.ip_b.pk}"

    assert api_client.as_(registry.carol).delete(url).status_code == 204

    record = latest(IPAsset, registry.ip_b.pk)
    assert (record.history_type, record.history_user, record.history_change_reason) == (
        "-",
        registry.carol,
        "API",
    )
    assert not IPAsset.objects.filter(pk=registry.ip_b.pk).exists()


def test_deleting_an_enterprise_records_its_children_too(registry, api_client):
    assert api_client.as_(registry.carol).delete(f"/api/enterprises/{registry.ent_b.pk}").status_code == 204

    assert latest(Enterprise, registry.ent_b.pk).history_user == registry.carol
    assert latest(EnterpriseYear, registry.year_b.pk).history_type == "-"
    assert latest(EnterpriseYear, registry.year_b.pk).history_user == registry.carol


def test_a_refused_write_leaves_no_record(registry, api_client):
    before = Enterprise.history.count()

    response = api_client.as_(registry.carol).patch(f"/api/enterprises/{registry.ent_a.pk}", {"uscc": "bad"})

    assert response.status_code == 422
    assert Enterprise.history.count() == before
