"""The registry API: enterprises, and their years, IP assets and qualifications (nested under the
enterprise: /api/enterprises/{enterprise_id}/years and …/years/{pk}; likewise ip-assets and
qualifications).

Every object is fetched through access.py: outside the user's scope it is not found (404), in
scope without the permission it is forbidden (403). Writes run the model's full_clean() (422 with
Chinese messages per field, see kechuang.core.api_errors), save in a transaction, and are audited by
django-simple-history with the caller as history_user and "API" as the change reason.
"""

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.db.models.deletion import ProtectedError
from ninja import Query, Router, Status
from ninja.pagination import LimitOffsetPagination, paginate

from kechuang.core import api_errors as errors
from kechuang.core import uscc
from kechuang.core.api_errors import Message, ValidationErrors
from kechuang.enterprises import schemas, selectors
from kechuang.enterprises.access import NotVisible, child_for_user, enterprise_for_user
from kechuang.enterprises.models import Enterprise, EnterpriseYear, IPAsset, Membership, Qualification

router = Router(tags=["企业库"])

MAX_LIMIT = 500  # a page never holds more than this, whatever `limit` asks for
CHANGE_REASON = "API"
DUPLICATE_USCC = "统一社会信用代码已存在"

R401 = {401: Message}
READ_ONE = {**R401, 404: Message}
CREATE = {**R401, 403: Message, 404: Message, 422: ValidationErrors}
UPDATE = {**R401, 403: Message, 404: Message, 422: ValidationErrors}
DELETE = {204: None, **R401, 403: Message, 404: Message, 409: Message}


# ---------------------------------------------------------------------------------------------
# Validation and saving


def validate(obj: models.Model) -> None:
    """full_clean() as 422 items (kechuang.core.api_errors), constraint by constraint so that a duplicate
    is reported on its field ("year", "number", "issue_date") with the model's message. The check
    constraints are mirrored by the models' clean() with more precise messages (naming the values),
    so theirs are shown only when clean() found nothing."""
    found: dict[str, list[ValidationError]] = {}
    try:
        obj.full_clean(validate_constraints=False)
    except ValidationError as exc:
        found = exc.error_dict
    items = []
    for field, field_errors in found.items():
        for error in field_errors:
            if field == "uscc" and error.code == "unique":
                items.append({"field": "uscc", "message": DUPLICATE_USCC, "code": "unique"})
            else:
                items += errors.from_django(ValidationError({_input_name(obj, field): [error]}))
    exclude = set(found) - {NON_FIELD_ERRORS}
    check_items = []
    for constraint in obj._meta.constraints:
        try:
            constraint.validate(type(obj), obj, exclude=exclude)
        except ValidationError as exc:
            if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
                field = [name for name in constraint.fields if name != "enterprise"][-1]
                items += [{"field": field, "message": message, "code": "unique"} for message in exc.messages]
            else:
                check_items += [
                    {"field": None, "message": message, "code": "constraint"} for message in exc.messages
                ]
    if items or check_items:
        raise errors.FieldErrors(items or check_items)


def _input_name(obj: models.Model, field: str) -> str:
    """The name the client sent: "park_id" for the foreign key "park"."""
    if field == NON_FIELD_ERRORS:
        return field
    model_field = obj._meta.get_field(field)
    return model_field.attname if isinstance(model_field, models.ForeignKey) else field


def _save(obj: models.Model) -> None:
    validate(obj)
    obj._change_reason = CHANGE_REASON
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:  # a concurrent write got there between the check and the save
        raise errors.Conflict() from None
    obj.refresh_from_db()  # decimals as stored ("1234.50"), defaults filled in


def _delete(obj: models.Model) -> Status:
    obj._change_reason = CHANGE_REASON
    try:
        with transaction.atomic():
            obj.delete()
    except ProtectedError:
        raise errors.Conflict(f"该{obj._meta.verbose_name}仍被其他数据引用，无法删除") from None
    return Status(204, None)


def _assign(obj: models.Model, data: dict) -> None:
    """Sets the fields sent; null clears a text field to "" (the registry's text fields are never NULL)."""
    for name, value in data.items():
        field = obj._meta.get_field(name.removesuffix("_id"))
        if value is None and isinstance(field, models.CharField) and not field.null:
            value = ""
        if hasattr(value, "value") and isinstance(field, models.CharField):  # a TextChoices member
            value = value.value
        setattr(obj, name, value)


def _sent(payload) -> dict:
    return payload.model_dump(exclude_unset=True)


# ---------------------------------------------------------------------------------------------
# Enterprises


def _keeps_registry(user) -> bool:
    """Officers keep the registry: they alone may create, delete, re-code or move any enterprise."""
    return user.has_perm("enterprises.add_enterprise")


def _own_parks(user) -> set[int]:
    ids: set[int] = set()
    for membership in Membership.objects.filter(user=user, park__isnull=False).select_related("park"):
        ids.update(membership.park.with_descendants())
    return ids


def _check_enterprise_fields(user, enterprise: Enterprise, data: dict) -> None:
    if _keeps_registry(user):
        return
    refused = []
    if "uscc" in data and uscc.normalise(data["uscc"] or "") != enterprise.uscc:
        refused.append("统一社会信用代码")
    if "is_demo" in data and data["is_demo"] != enterprise.is_demo:
        refused.append("示例数据")
    if (
        "park_id" in data
        and data["park_id"] != enterprise.park_id
        and data["park_id"] not in _own_parks(user)
    ):
        refused.append("所在园区")
    if refused:
        raise PermissionDenied(f"无权修改：{'、'.join(refused)}")


def _enterprise_data(payload) -> dict:
    data = _sent(payload)
    if data.get("uscc"):
        data["uscc"] = uscc.normalise(data["uscc"])
    return data


def _ordered(queryset, ordering: str):
    name = ordering.removeprefix("-")
    expression = F(name).desc(nulls_last=True) if ordering.startswith("-") else F(name).asc(nulls_last=True)
    return queryset.order_by(expression, "pk")


@router.get(
    "",
    response={200: list[schemas.EnterpriseOut], **R401, 422: ValidationErrors},
    summary="企业列表",
    operation_id="enterprise_list",
    url_name="enterprise_list",
)
@paginate(LimitOffsetPagination, max_limit=MAX_LIMIT)
def enterprise_list(request, filters: Query[schemas.EnterpriseFilters]):
    """当前用户可见的企业（科委、领导：全部；园区运营方：本园区及下属分园；企业用户：本企业），分页（limit/offset，每页至多 500 条）。"""
    queryset = Enterprise.objects.visible_to(request.user).select_related("park")
    if filters.q:
        queryset = queryset.filter(selectors.search_condition(filters.q))
    if filters.park is not None:
        queryset = selectors.in_park(queryset, filters.park)
    if filters.industry:
        queryset = queryset.filter(industry=filters.industry)
    if filters.hitech_field:
        queryset = queryset.filter(hitech_field=filters.hitech_field)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.qualification:
        queryset = queryset.with_valid_qualification(filters.qualification, filters.qualification_on)
    return _ordered(queryset, filters.ordering)


@router.post(
    "",
    response={201: schemas.EnterpriseOut, **CREATE},
    summary="新增企业（科委业务人员）",
    operation_id="enterprise_create",
)
def enterprise_create(request, payload: schemas.EnterpriseCreate):
    if not request.user.has_perm("enterprises.add_enterprise"):
        raise PermissionDenied("无权新增企业")
    enterprise = Enterprise()
    _assign(enterprise, _enterprise_data(payload))
    _save(enterprise)
    return Status(201, enterprise)


@router.get(
    "/{int:enterprise_id}",
    response={200: schemas.EnterpriseOut, **READ_ONE},
    summary="企业详情",
    operation_id="enterprise_retrieve",
    url_name="enterprise_detail",
)
def enterprise_retrieve(request, enterprise_id: int):
    return enterprise_for_user(request.user, enterprise_id)


@router.patch(
    "/{int:enterprise_id}",
    response={200: schemas.EnterpriseOut, **UPDATE},
    summary="修改企业（科委；园区运营方改本园区企业；企业用户改本企业）",
    operation_id="enterprise_update",
)
def enterprise_update(request, enterprise_id: int, payload: schemas.EnterprisePatch):
    enterprise = enterprise_for_user(request.user, enterprise_id, action="change")
    data = _enterprise_data(payload)
    _check_enterprise_fields(request.user, enterprise, data)
    _assign(enterprise, data)
    _save(enterprise)
    return enterprise


@router.delete(
    "/{int:enterprise_id}",
    response=DELETE,
    summary="删除企业（科委业务人员；连同其年度数据、知识产权、资质）",
    operation_id="enterprise_delete",
)
def enterprise_delete(request, enterprise_id: int):
    return _delete(enterprise_for_user(request.user, enterprise_id, action="delete"))


# ---------------------------------------------------------------------------------------------
# Years, IP assets, qualifications: the same five operations on each, nested under the enterprise.

VERBS = {"view": "查看", "add": "新增", "change": "修改", "delete": "删除"}
CHILD_DOC = (
    "{label}属于路径中的企业。企业不在可见范围内（或{label}不属于该企业）时为 404，无相应权限时为 403。"
)


def _child_or_404(request, model, enterprise_id: int, pk: int, action: str):
    """The child `pk` of enterprise `enterprise_id`: 404 outside the user's scope or under another
    enterprise (whatever the permission), then 403 without the permission for `action`."""
    label = model._meta.verbose_name
    obj = child_for_user(request.user, model, pk)
    if obj.enterprise_id != enterprise_id:
        raise NotVisible(f"{label}不存在或无权查看")
    if not request.user.has_perm(f"enterprises.{action}_{model._meta.model_name}"):
        raise PermissionDenied(f"无权{VERBS[action]}该{label}")
    return obj


def _register_children(model, path: str, name: str, out, create_schema, patch_schema) -> None:
    label = model._meta.verbose_name
    codename = model._meta.model_name
    collection = f"/{{int:enterprise_id}}/{path}"
    item = f"{collection}/{{int:pk}}"
    doc = CHILD_DOC.format(label=label)

    @router.get(
        collection,
        response={200: list[out], **READ_ONE, 403: Message},
        summary=f"{label}列表",
        description=doc,
        operation_id=f"{name}_list",
        url_name=f"{name}_list",
    )
    @paginate(LimitOffsetPagination, max_limit=MAX_LIMIT)
    def child_list(request, enterprise_id: int):
        enterprise = enterprise_for_user(request.user, enterprise_id)
        if not request.user.has_perm(f"enterprises.view_{codename}"):
            raise PermissionDenied(f"无权查看{label}")
        return model.objects.filter(enterprise=enterprise).order_by(*model._meta.ordering, "pk")

    @router.post(
        collection,
        response={201: out, **CREATE},
        summary=f"新增{label}",
        description=doc,
        operation_id=f"{name}_create",
    )
    def child_create(request, enterprise_id: int, payload: create_schema):
        enterprise = enterprise_for_user(request.user, enterprise_id)
        if not request.user.has_perm(f"enterprises.add_{codename}"):
            raise PermissionDenied(f"无权新增{label}")
        obj = model(enterprise=enterprise)
        _assign(obj, _sent(payload))
        _save(obj)
        return Status(201, obj)

    @router.get(
        item,
        response={200: out, **READ_ONE, 403: Message},
        summary=f"{label}详情",
        description=doc,
        operation_id=f"{name}_retrieve",
        url_name=f"{name}_detail",
    )
    def child_retrieve(request, enterprise_id: int, pk: int):
        return _child_or_404(request, model, enterprise_id, pk, "view")

    @router.patch(
        item,
        response={200: out, **UPDATE},
        summary=f"修改{label}",
        description=doc,
        operation_id=f"{name}_update",
    )
    def child_update(request, enterprise_id: int, pk: int, payload: patch_schema):
        obj = _child_or_404(request, model, enterprise_id, pk, "change")
        _assign(obj, _sent(payload))
        _save(obj)
        return obj

    @router.delete(
        item, response=DELETE, summary=f"删除{label}", description=doc, operation_id=f"{name}_delete"
    )
    def child_delete(request, enterprise_id: int, pk: int):
        return _delete(_child_or_404(request, model, enterprise_id, pk, "delete"))


_register_children(
    EnterpriseYear,
    "years",
    "year",
    schemas.EnterpriseYearOut,
    schemas.EnterpriseYearCreate,
    schemas.EnterpriseYearPatch,
)
_register_children(
    IPAsset, "ip-assets", "ip_asset", schemas.IPAssetOut, schemas.IPAssetCreate, schemas.IPAssetPatch
)
_register_children(
    Qualification,
    "qualifications",
    "qualification",
    schemas.QualificationOut,
    schemas.QualificationCreate,
    schemas.QualificationPatch,
)
