from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from kechuang.core import start, throttle


def client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码错误。注意：连续失败多次后账号将被暂时锁定。",
        "inactive": "该账号已停用，请联系科委管理员。",
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = client_address(self.request)
        if throttle.is_locked(username, address):
            raise ValidationError(throttle.locked_message(), code="locked")
        try:
            cleaned = super().clean()
        except ValidationError:
            throttle.record_failure(username, address)
            raise
        throttle.clear(username, address)
        return cleaned


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


def home(request):
    """Sends a signed-in user to the start page of its role (kechuang/core/start.py)."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    found = start.start_page(request.user)
    if isinstance(found, start.NoStartPage):
        return render(request, "core/no_start_page.html", {"no_start": found, "ask": start.ASK_THE_COMMISSION})
    return redirect(found)
