import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.urls import reverse

from kechuang.core import roles

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def officer(db):
    roles.roles_sync()
    user = User.objects.create_user("zhang", password="correct-horse-1")
    user.groups.add(Group.objects.get(name=roles.OFFICER.name))
    return user


def login(client, password, username="zhang"):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_it_logs_in_and_lands_on_the_registry(client, officer):
    response = login(client, "correct-horse-1")
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("home"))["Location"] == reverse("enterprises:list")


def test_a_wrong_password_says_so_in_chinese(client, officer):
    response = login(client, "wrong")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()


def test_it_locks_after_five_failures_even_with_the_right_password(client, officer, settings):
    settings.LOGIN_MAX_FAILURES = 5
    for _ in range(4):
        login(client, "wrong")
    # The fourth failure still leaves one try.
    assert login(client, "correct-horse-1").status_code == 302
    client.post(reverse("accounts:logout"))
    for _ in range(5):
        login(client, "wrong")
    response = login(client, "correct-horse-1")
    assert response.status_code == 200
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_success_resets_the_failure_count(client, officer, settings):
    settings.LOGIN_MAX_FAILURES = 3
    login(client, "wrong")
    login(client, "wrong")
    assert login(client, "correct-horse-1").status_code == 302
    client.post(reverse("accounts:logout"))
    login(client, "wrong")
    login(client, "wrong")
    assert login(client, "correct-horse-1").status_code == 302


def test_the_lock_also_covers_other_usernames_from_the_same_address(client, officer, settings):
    settings.LOGIN_MAX_FAILURES = 3
    for name in ("a", "b", "c"):
        login(client, "x", username=name)
    assert "登录失败次数过多" in login(client, "correct-horse-1").content.decode()


def test_logout_needs_post_and_ends_the_session(client, officer):
    login(client, "correct-horse-1")
    assert client.get(reverse("accounts:logout")).status_code == 405
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("enterprises:list")).status_code == 302


def test_the_six_roles_exist_with_their_permissions(db):
    roles.roles_sync()
    assert set(Group.objects.values_list("name", flat=True)) >= {r.name for r in roles.ROLES}
    officer = Group.objects.get(name="科委业务人员")
    assert officer.permissions.filter(codename="import_registry").exists()
    leader = set(Group.objects.get(name="领导").permissions.values_list("codename", flat=True))
    assert "view_enterprise" in leader and not any(c.startswith(("add_", "change_", "delete_")) for c in leader)
    enterprise = set(Group.objects.get(name="企业用户").permissions.values_list("codename", flat=True))
    assert "change_qualification" not in enterprise and "add_enterpriseyear" in enterprise
    assert "change_application" not in enterprise  # it would let an enterprise pass its own 形式审查
    # An expert reads its assignments and scores them (and the 揭榜挂帅 answers it is invited to review,
    # projects/challenges.py); it changes and deletes nothing.
    expert = set(Group.objects.get(name="专家").permissions.values_list("codename", flat=True))
    assert {"view_reviewassignment", "add_score", "view_challenge", "add_challengereview"} <= expert
    assert not any(c.startswith(("change_", "delete_")) for c in expert)


def test_roles_sync_is_idempotent_and_restores_removed_permissions(db):
    roles.roles_sync()
    group = Group.objects.get(name="领导")
    count = group.permissions.count()
    group.permissions.clear()
    roles.roles_sync()
    roles.roles_sync()
    assert group.permissions.count() == count
