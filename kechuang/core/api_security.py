"""Session authentication for the API: ninja's, with a Chinese message when the CSRF check fails."""

from typing import Any

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import SessionAuth as NinjaSessionAuth
from ninja.utils import check_csrf

CSRF_FAILED = "CSRF 校验失败：写操作须在请求头 X-CSRFToken 中携带 csrftoken Cookie 的值"


class SessionAuth(NinjaSessionAuth):
    """The logged-in Django session; unsafe methods need the CSRF token (as ninja's django_auth)."""

    def _get_key(self, request: HttpRequest) -> Any:
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(403, CSRF_FAILED)
        return request.COOKIES.get(self.param_name)


session_auth = SessionAuth()
