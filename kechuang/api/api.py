"""The platform's HTTP API (django-ninja): one router per app, OpenAPI at /api/openapi.json."""

from ninja import NinjaAPI
from ninja.security import django_auth

from kechuang.enterprises.api import router as enterprises_router

api = NinjaAPI(
    title="科创平台 API",
    version="1",
    description="松江区科创平台接口。认证：登录后的会话（Cookie），写操作需携带 CSRF 令牌。金额单位：元。",
    auth=django_auth,
    urls_namespace="api",
)
api.add_router("/enterprises", enterprises_router)
