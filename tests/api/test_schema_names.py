"""One name, one shape: the OpenAPI document keys its components by class name, so two different schemas with the
same name overwrite each other there and a client generated from it gets the wrong fields."""

from collections import defaultdict

from ninja import Schema


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_no_two_api_schemas_of_different_shape_share_a_name(client):
    document = client.get("/api/openapi.json")
    assert document.status_code == 200
    shapes = defaultdict(dict)
    for cls in _all_subclasses(Schema):
        if cls.__module__.startswith("kechuang."):
            shapes[cls.__name__][f"{cls.__module__}.{cls.__qualname__}#{id(cls)}"] = cls.model_json_schema()
    clashes = {
        name: sorted(by_class)
        for name, by_class in shapes.items()
        if len({repr(sorted(s.get("properties", {}).items())) for s in by_class.values()}) > 1
    }
    assert clashes == {}
    components = document.json()["components"]["schemas"]
    assert "TieringRunOut" in components
