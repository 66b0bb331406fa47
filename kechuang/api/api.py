"""The platform's HTTP API (django-ninja): one router per app, OpenAPI at /api/openapi.json,
Swagger UI at /api/docs (served from ninja's bundled static files, never a CDN: "ninja" is in
INSTALLED_APPS for that)."""

from ninja import NinjaAPI

from kechuang.core import api_errors as errors
from kechuang.core.api_security import session_auth
from kechuang.enterprises.api import router as enterprises_router

DESCRIPTION = """松江区科创平台接口。

**认证**：登录后的会话（Cookie `sessionid`）；写操作（POST、PATCH、DELETE）须在请求头 `X-CSRFToken` 中携带
`csrftoken` Cookie 的值。

**权限**：先看范围，再看权限。不在当前用户可见范围内的对象一律 404（不泄露其存在）；在范围内但角色无此操作权限为 403；
未登录为 401。

**金额**：单位为元，以十进制字符串表示（如 `"1234.50"`）；人数为十进制字符串（可有一位小数）。缺失为 null，不以 0 代替。

**分页**：列表接口用 `limit`（默认 100，至多 500）和 `offset`，返回 `{"items": [...], "count": 总数}`。

**错误格式**：所有错误的响应体都有 `detail`。401/403/404/409 为 `{"detail": "中文说明"}`；
422 为 `{"detail": [{"field": "字段名或 null", "message": "中文说明", "code": "错误类别"}]}`，
请求格式错误（缺字段、类型不对、未知字段）和业务校验错误（统一社会信用代码校验位、研发人员数多于职工总数、重复）同一格式。
"""

api = NinjaAPI(
    title="科创平台 API",
    version="1",
    description=DESCRIPTION,
    auth=session_auth,
    urls_namespace="api",
)
errors.install(api)
api.add_router("/enterprises", enterprises_router)
api.add_router("/tiering", "kechuang.tiering.api.router")
api.add_router("/indicators", "kechuang.indicators.api.router")
api.add_router("/projects", "kechuang.projects.api.router")
api.add_router("/challenges", "kechuang.projects.api_challenges.router")
api.add_router("/recognitions", "kechuang.recognitions.api.router")
api.add_router("/vouchers", "kechuang.vouchers.api.router")
api.add_router("/policies", "kechuang.policies.api.router")
api.add_router("/matching", "kechuang.matching.api.router")
