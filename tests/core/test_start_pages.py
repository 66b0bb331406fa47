"""Each role's start page (kechuang/core/start.py): log in through the form, follow the redirects, land on a page
the role may see. The accounts are the demo personas of `kechuang demo_accounts` (and `demo_vouchers`)."""

import io

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.urls import reverse

from kechuang.core import roles
from kechuang.enterprises import demo
from kechuang.enterprises.models import Enterprise, Membership
from kechuang.projects.models import Expert

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_personas(settings):
    settings.DEBUG = True
    demo.load_demo(enterprises=20)
    call_command("demo_accounts", stdout=io.StringIO())
    # What `kechuang demo_projects` does for the demo expert: it enters the expert pool.
    Expert.objects.create(user=User.objects.get(username="expert"), name="示例专家", organisation="松江大学城某高校")


def log_in(client, username, password=demo.DEMO_PASSWORD):
    return client.post(reverse("accounts:login"), {"username": username, "password": password}, follow=True)


def key_enterprise_page():
    return reverse("enterprises:detail", kwargs={"pk": Enterprise.objects.get(name=demo.KEY_ENTERPRISE_USER).pk})


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("officer", lambda: reverse("enterprises:list")),
        ("park", lambda: reverse("enterprises:list")),
        ("leader", lambda: reverse("indicators:dashboard")),
        ("enterprise", key_enterprise_page),
        ("expert", lambda: reverse("projects:review-inbox")),
        ("university", lambda: reverse("matching:achievement-list")),
    ],
)
def test_each_demo_persona_lands_on_its_start_page(client, demo_personas, username, expected):
    response = log_in(client, username)
    assert response.status_code == 200
    assert [url for url, _ in response.redirect_chain] == [reverse("home"), expected()]
    assert response.request["PATH_INFO"] == expected()


def test_the_provider_persona_lands_on_its_redemptions(client, demo_personas):
    call_command("demo_vouchers", stdout=io.StringIO())
    response = log_in(client, "provider")
    assert response.status_code == 200
    assert response.request["PATH_INFO"] == reverse("vouchers:redemptions")
    assert "兑付" in response.content.decode()


def test_a_user_without_a_role_is_told_whom_to_ask_not_refused(client, db):
    User.objects.create_user("nobody", password="pass-nobody")
    response = log_in(client, "nobody", "pass-nobody")
    assert response.status_code == 200
    assert response.request["PATH_INFO"] == reverse("home")
    text = response.content.decode()
    assert "您的账号尚未分配角色" in text and "请联系区科委的平台管理员" in text and "nobody" in text


def test_an_enterprise_user_without_an_enterprise_is_told_so(client, db):
    roles.roles_sync()
    user = User.objects.create_user("lonely", password="pass-lonely")
    user.groups.add(Group.objects.get(name=roles.ENTERPRISE.name))
    response = log_in(client, "lonely", "pass-lonely")
    assert response.status_code == 200 and response.request["PATH_INFO"] == reverse("home")
    assert "您的账号尚未关联企业" in response.content.decode()


def test_an_enterprise_user_starts_on_its_own_enterprise_even_with_a_park_membership_too(client, demo_personas):
    user = User.objects.get(username="enterprise")
    other = Enterprise.objects.exclude(name=demo.KEY_ENTERPRISE_USER).order_by("pk").first()
    Membership.objects.create(user=user, enterprise=other)  # a second enterprise: the first one stays the start
    response = log_in(client, "enterprise")
    assert response.request["PATH_INFO"] == key_enterprise_page()


def test_an_expert_outside_the_expert_pool_is_told_so(client, demo_personas):
    Expert.objects.filter(user__username="expert").update(user=None)
    response = log_in(client, "expert")
    assert response.status_code == 200 and response.request["PATH_INFO"] == reverse("home")
    assert "您的账号尚未登记为评审专家" in response.content.decode()


def test_a_superuser_counts_as_an_officer(client, db):
    User.objects.create_superuser("root", password="pass-root")
    response = log_in(client, "root", "pass-root")
    assert response.request["PATH_INFO"] == reverse("enterprises:list")


def test_the_home_page_asks_a_visitor_to_log_in(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")


def test_a_login_with_next_still_goes_where_asked(client, demo_personas):
    response = client.post(
        reverse("accounts:login"),
        {"username": "expert", "password": demo.DEMO_PASSWORD, "next": reverse("policies:library")},
        follow=True,
    )
    assert response.request["PATH_INFO"] == reverse("policies:library")


# --- the printed table of demo accounts says what each can do now ---------------------------------------------------


def printed_accounts() -> str:
    out = io.StringIO()
    call_command("demo_accounts", "--print", stdout=out)
    return out.getvalue()


def test_the_printed_accounts_say_what_each_can_do_now(demo_personas):
    text = printed_accounts()
    assert "待上线" not in text
    university = next(line for line in text.splitlines() if "| university " in line)
    assert "双向发榜" in university and "发布成果" in university
    expert = next(line for line in text.splitlines() if "| expert " in line)
    assert "评审任务" in expert
    # Before demo_vouchers: no provider row, but where it comes from.
    assert "| provider " not in text and "由 kechuang demo_vouchers 创建" in text


def test_the_printed_accounts_list_the_provider_once_demo_vouchers_made_it(demo_personas):
    call_command("demo_vouchers", stdout=io.StringIO())
    text = printed_accounts()
    provider = next(line for line in text.splitlines() if "| provider " in line)
    assert roles.PROVIDER.name in provider and demo.DEMO_PASSWORD in provider and "兑付" in provider
    assert "由 kechuang demo_vouchers 创建" not in text
