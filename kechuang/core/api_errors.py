"""One error format for the whole API, documented in the OpenAPI document.

Every error body has a `detail`:
- 401 / 403 / 404 / 409: `{"detail": "中文说明"}`;
- 422: `{"detail": [{"field": ..., "message": ..., "code": ...}, ...]}`, one item per problem, whether
  ninja found it while reading the request (a missing field, text where a number belongs) or the
  model's `full_clean()` did (统一社会信用代码校验位, 研发人员数 > 职工总数, a duplicate). `field` is the
  name of the input field (body or query parameter), or null when the problem is not one field's.
"""

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import Field

NOT_AUTHENTICATED = "未登录或登录已过期，请先登录"
NOT_FOUND = "对象不存在或无权查看"
FORBIDDEN = "无权执行此操作"
CONFLICT = "数据已被引用或与现有数据冲突，未作修改"


class Message(Schema):
    detail: str = Field(description="中文说明")


class FieldError(Schema):
    field: str | None = Field(description="出错的输入字段名（请求体或查询参数）；与单个字段无关时为 null")
    message: str = Field(description="中文错误说明，可直接展示给用户")
    code: str = Field(description="错误类别，如 missing、invalid、unique、decimal_parsing")


class ValidationErrors(Schema):
    detail: list[FieldError]


ERROR_RESPONSES: dict[int, Any] = {401: Message, 403: Message, 404: Message, 422: ValidationErrors}


class FieldErrors(Exception):
    """Raised by an operation to answer 422 with these items."""

    def __init__(self, items: list[dict[str, Any]]):
        self.items = items
        super().__init__(items)


class Conflict(Exception):
    def __init__(self, message: str = CONFLICT):
        self.message = message
        super().__init__(message)


# pydantic's error types, in Chinese; {placeholders} come from the error's ctx.
_PYDANTIC_MESSAGES = {
    "missing": "此项为必填项",
    "extra_forbidden": "不允许的字段（未知字段或只读字段）",
    "json_invalid": "请求体不是有效的 JSON",
    "model_attributes_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
    "string_type": "应为文本",
    "string_too_long": "长度不能超过 {max_length} 个字符",
    "string_too_short": "长度不能少于 {min_length} 个字符",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "decimal_type": '应为数字（建议以字符串传递，如 "1234.50"）',
    "decimal_parsing": '应为数字（建议以字符串传递，如 "1234.50"）',
    "decimal_max_digits": "数字总位数不能超过 {max_digits} 位",
    "decimal_max_places": "小数位数不能超过 {decimal_places} 位",
    "decimal_whole_digits": "整数部分位数不能超过 {whole_digits} 位",
    "finite_number": "应为有限的数字",
    "float_parsing": "应为数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "date_type": "应为日期，格式 YYYY-MM-DD",
    "date_parsing": "应为日期，格式 YYYY-MM-DD",
    "date_from_datetime_parsing": "应为日期，格式 YYYY-MM-DD",
    "date_from_datetime_inexact": "应为日期，格式 YYYY-MM-DD",
    "enum": "不是有效的选项，可选值：{expected}",
    "literal_error": "不是有效的选项，可选值：{expected}",
    "greater_than_equal": "不能小于 {ge}",
    "greater_than": "必须大于 {gt}",
    "less_than_equal": "不能大于 {le}",
    "less_than": "必须小于 {lt}",
}


def _pydantic_message(error: dict[str, Any]) -> str:
    template = _PYDANTIC_MESSAGES.get(error.get("type", ""))
    if template is None:
        return f"输入无效：{error.get('msg', '')}"
    ctx = dict(error.get("ctx", {}))
    if "expected" in ctx:  # pydantic lists choices as "'a', 'b' or 'c'"
        ctx["expected"] = str(ctx["expected"]).replace(" or ", ", ")
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return template


def _field_from_loc(loc: tuple | list) -> str | None:
    """ninja's loc is (source, [param name,] field, ...): ("body", "payload", "uscc"),
    ("query", "limit"). The client knows only the field path."""
    parts = [str(p) for p in loc[1:]]
    if loc and loc[0] == "body" and parts:
        parts = parts[1:]  # the view's parameter name, which the client never sees
    return ".".join(parts) or None


def from_ninja(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "field": _field_from_loc(e.get("loc", ())),
            "message": _pydantic_message(e),
            "code": e.get("type", "invalid"),
        }
        for e in errors
    ]


def from_django(exc: DjangoValidationError) -> list[dict[str, Any]]:
    """A model ValidationError as items; non-field errors get field null."""
    items = []
    for field, errors in (
        exc.error_dict.items() if hasattr(exc, "error_dict") else [(NON_FIELD_ERRORS, exc.error_list)]
    ):
        for error in errors:
            message = error.message % error.params if error.params else error.message
            items.append(
                {
                    "field": None if field == NON_FIELD_ERRORS else field,
                    "message": str(message),
                    "code": error.code or "invalid",
                }
            )
    return items


def install(api: NinjaAPI) -> None:
    """Replaces ninja's default error bodies (English, 500 on PermissionDenied) with the format above."""

    def respond(request: HttpRequest, body: dict, status: int) -> HttpResponse:
        return api.create_response(request, body, status=status)

    @api.exception_handler(AuthenticationError)
    def not_authenticated(request, exc):
        return respond(request, {"detail": NOT_AUTHENTICATED}, 401)

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return respond(request, {"detail": str(exc) if exc.args else NOT_FOUND}, 404)

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        return respond(request, {"detail": str(exc) if exc.args else FORBIDDEN}, 403)

    @api.exception_handler(HttpError)
    def http_error(request, exc):
        return respond(request, {"detail": str(exc)}, exc.status_code)

    @api.exception_handler(NinjaValidationError)
    def invalid_request(request, exc):
        return respond(request, {"detail": from_ninja(exc.errors)}, 422)

    @api.exception_handler(FieldErrors)
    def invalid_object(request, exc):
        return respond(request, {"detail": exc.items}, 422)

    @api.exception_handler(DjangoValidationError)
    def invalid_by_service(request, exc):
        # A service's own checks (field → Chinese message): the same 422 items as a model's full_clean().
        return respond(request, {"detail": from_django(exc)}, 422)

    @api.exception_handler(Conflict)
    def conflict(request, exc):
        return respond(request, {"detail": exc.message}, 409)
