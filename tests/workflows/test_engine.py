"""The workflow engine with the project workflows: publishing, pinned versions, taking a step, the inbox."""

import copy
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from kechuang.enterprises.models import Membership
from kechuang.projects.models import Application
from kechuang.projects.workflows import APPLICATION, APPLICATION_DEFAULT, AWARD, CALL
from kechuang.workflows import engine
from kechuang.workflows.models import TransitionLog, Workflow
from tests.workflows.conftest import make_application


def edited(**changes) -> dict:
    definition = copy.deepcopy(APPLICATION_DEFAULT)
    definition.update(changes)
    return definition


def transition(definition: dict, name: str) -> dict:
    return next(t for t in definition["transitions"] if t["name"] == name)


def problems(error: ValidationError) -> str:
    return "\n".join(error.message_dict["definition"])


# —— Declared defaults ——


@pytest.mark.django_db
@pytest.mark.parametrize("key", [CALL, APPLICATION, AWARD])
def test_the_declared_defaults_are_valid_with_the_permissions_that_exist_after_migrate(key):
    assert engine.definition_errors(key, engine.REGISTRY[key].default) == []


@pytest.mark.django_db
def test_the_default_becomes_version_1_on_first_use():
    assert not Workflow.objects.filter(key=APPLICATION).exists()
    first = engine.current(APPLICATION)
    assert (first.version, first.definition, first.note) == (1, APPLICATION_DEFAULT, "默认定义")
    assert engine.current(APPLICATION) == first


# —— Publishing ——


@pytest.mark.django_db
def test_publishing_refuses_an_unknown_state_and_saves_nothing(personas):
    definition = edited()
    transition(definition, "submit")["to"] = "sent"
    with pytest.raises(ValidationError) as refused:
        engine.publish(APPLICATION, definition, user=personas.carol, note="改名")
    assert "第 1 个操作（submit）的 to 'sent' 不在 states 中" in problems(refused.value)
    assert not Workflow.objects.filter(key=APPLICATION).exists()


@pytest.mark.django_db
def test_publishing_refuses_an_unknown_initial_state_and_unknown_sources(personas):
    definition = edited(initial="new")
    transition(definition, "withdraw")["from"] = ["draft", "limbo"]
    with pytest.raises(ValidationError) as refused:
        engine.publish(APPLICATION, definition, user=personas.carol, note="改名")
    text = problems(refused.value)
    assert "初始状态 'new' 不在 states 中" in text
    assert "（withdraw）的 from 须为已定义状态的列表，收到 ['draft', 'limbo']" in text


@pytest.mark.django_db
def test_publishing_refuses_an_unknown_guard(personas):
    definition = edited()
    transition(definition, "submit")["guards"].append("has_seal")
    with pytest.raises(ValidationError) as refused:
        engine.publish(APPLICATION, definition, user=personas.carol, note="加盖公章检查")
    assert "（submit）的检查 ['has_seal'] 不存在，可用 [" in problems(refused.value)
    assert not Workflow.objects.filter(key=APPLICATION).exists()


@pytest.mark.django_db
def test_publishing_refuses_an_unknown_permission(personas):
    definition = edited()
    transition(definition, "approve")["permission"] = "projects.approve_application"
    with pytest.raises(ValidationError) as refused:
        engine.publish(APPLICATION, definition, user=personas.carol, note="立项权限")
    assert "（approve）的权限 'projects.approve_application' 不存在" in problems(refused.value)
    assert not Workflow.objects.filter(key=APPLICATION).exists()


@pytest.mark.django_db
def test_publishing_needs_a_note(personas):
    with pytest.raises(ValidationError) as refused:
        engine.publish(APPLICATION, edited(), user=personas.carol, note="  ")
    assert problems(refused.value) == "须填写修改说明"
    assert not Workflow.objects.filter(key=APPLICATION).exists()


@pytest.mark.django_db
def test_publishing_refuses_malformed_json_shapes_with_chinese_messages(personas):
    definition = edited()
    transition(definition, "submit")["guards"] = "applicant"
    transition(definition, "return")["permission"] = 7
    transition(definition, "approve")["from"] = [{"state": "reviewed"}]
    with pytest.raises(ValidationError) as refused:
        engine.publish(APPLICATION, definition, user=personas.carol, note="试")
    text = problems(refused.value)
    assert "（submit）的 guards 须为检查名的列表，收到 'applicant'" in text
    assert "（return）的权限须为“应用.权限代码”字符串，收到 7" in text
    assert "（approve）的 from 须为已定义状态的列表" in text


@pytest.mark.django_db
def test_versions_increase_with_each_publication(personas):
    assert engine.current(APPLICATION).version == 1
    second = engine.publish(APPLICATION, edited(), user=personas.carol, note="第二版")
    third = engine.publish(APPLICATION, edited(), user=personas.carol, note="第三版")
    assert (second.version, third.version) == (2, 3)
    assert engine.current(APPLICATION) == third
    assert (third.published_by, third.note) == (personas.carol, "第三版")
    assert list(Workflow.objects.filter(key=APPLICATION).values_list("version", flat=True)) == [3, 2, 1]


@pytest.mark.django_db
def test_an_object_keeps_the_version_it_started_under(wf):
    """v2 drops 撤回申报 and renames 草稿: the application started under v1 still offers and takes v1's
    withdraw; one started under v2 does not have it."""
    old = wf.application
    assert old.workflow.version == 1
    definition = edited()
    definition["transitions"] = [t for t in definition["transitions"] if t["name"] != "withdraw"]
    definition["states"]["draft"] = "填报中"
    engine.publish(APPLICATION, definition, user=wf.carol, note="申报提交后不得撤回")
    new = make_application(wf.call, wf.ent_a, title="第二个项目", created_by=wf.alice)

    assert new.workflow.version == 2
    old.refresh_from_db()
    assert old.workflow.version == 1
    assert "withdraw" in [o.name for o in engine.options(old, wf.alice)]
    assert "withdraw" not in [o.name for o in engine.options(new, wf.alice)]
    assert (engine.state_label(old), engine.state_label(new)) == ("草稿", "填报中")

    with pytest.raises(ValidationError) as refused:
        engine.take(new, "withdraw", wf.alice)
    assert refused.value.message_dict["transition"] == [f"流程 {new.workflow} 没有操作 withdraw"]
    engine.take(old, "withdraw", wf.alice, "重复申报")
    old.refresh_from_db()
    assert old.state == "withdrawn"
    assert TransitionLog.objects.get(object_id=old.pk).workflow.version == 1


# —— Taking a transition ——


@pytest.mark.django_db
def test_take_refuses_a_transition_not_allowed_from_the_state(wf):
    with pytest.raises(ValidationError) as refused:
        engine.take(wf.application, "approve", wf.carol)
    assert refused.value.message_dict["transition"] == ["当前状态“草稿”不能执行“立项”"]
    wf.application.refresh_from_db()
    assert wf.application.state == "draft"
    assert not TransitionLog.objects.exists()


@pytest.mark.django_db
def test_take_refuses_a_user_without_the_permission(wf):
    for user in (wf.bob, wf.carol, wf.leo):  # park operator, officer and leader lack projects.add_application
        with pytest.raises(PermissionDenied, match="无权执行“提交申报”"):
            engine.take(wf.application, "submit", user)
    wf.application.refresh_from_db()
    assert wf.application.state == "draft"
    assert not TransitionLog.objects.exists()


@pytest.mark.django_db
def test_take_refuses_when_a_guard_refuses_with_the_guards_reason(wf):
    Application.objects.filter(pk=wf.application.pk).update(requested_amount=Decimal("600000"))
    wf.application.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        engine.take(wf.application, "submit", wf.alice)
    assert refused.value.message_dict["transition"] == ["申请资助 60.00 万元，超过单项资助上限 50.00 万元"]
    wf.application.refresh_from_db()
    assert wf.application.state == "draft"
    assert not TransitionLog.objects.exists()


@pytest.mark.django_db
def test_another_enterprises_user_with_the_permission_is_refused_by_the_applicant_guard(wf):
    other = make_application(wf.call, wf.ent_b, title="乙的项目")
    with pytest.raises(ValidationError) as refused:
        engine.take(other, "submit", wf.alice)
    assert refused.value.message_dict["transition"] == ["仅上海乙生物有限公司的用户可以办理"]


@pytest.mark.django_db
def test_take_logs_who_when_and_why(wf):
    before = timezone.now()
    engine.take(wf.application, "submit", wf.alice, "按指南填写完毕")
    engine.take(wf.application, "return", wf.carol, "预算说明不完整")
    after = timezone.now()

    wf.application.refresh_from_db()
    assert wf.application.state == "returned"
    steps = list(engine.history(wf.application))
    assert [(s.transition, s.from_state, s.to_state, s.actor, s.reason) for s in steps] == [
        ("submit", "draft", "submitted", wf.alice, "按指南填写完毕"),
        ("return", "submitted", "returned", wf.carol, "预算说明不完整"),
    ]
    assert all(before <= s.at <= after for s in steps)
    assert all(s.workflow == wf.application.workflow for s in steps)


@pytest.mark.django_db
def test_take_uses_the_state_in_the_database_not_a_stale_copy(wf):
    stale = Application.objects.get(pk=wf.application.pk)
    engine.take(wf.application, "submit", wf.alice)
    with pytest.raises(ValidationError, match="当前状态“已提交”不能执行“提交申报”"):
        engine.take(stale, "submit", wf.alice)
    assert TransitionLog.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_takes_of_the_same_transition_only_one_succeeds(wf, monkeypatch):
    """On PostgreSQL: two requests submit the same application at once, each on its own connection. The
    first locks the row and holds it in a slow guard; the second waits for the lock, then finds the
    application already submitted. Without the row lock both would read 草稿 and both would succeed."""
    if connection.vendor != "postgresql":
        pytest.skip("行锁（SELECT … FOR UPDATE）只在 PostgreSQL 上检验")
    guards = engine.REGISTRY[APPLICATION].guards
    within_cap = guards["within_cap"]

    def slow_within_cap(application, user):
        time.sleep(0.5)
        return within_cap(application, user)

    monkeypatch.setitem(guards, "within_cap", slow_within_cap)
    alice = wf.alice
    assert alice.has_perm("projects.add_application")  # fill the permission cache before the threads share it
    pk = wf.application.pk
    barrier = threading.Barrier(2)
    results: list = []

    def submit():
        from django.db import connection as own  # each thread has its own connection

        try:
            application = Application.objects.select_related("workflow").get(pk=pk)
            assert application.state == "draft"
            barrier.wait(timeout=10)
            engine.take(application, "submit", alice, "并发提交")
            results.append("ok")
        except ValidationError as error:
            results.append(error.message_dict["transition"][0])
        finally:
            own.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["ok", "当前状态“已提交”不能执行“提交申报”"]
    assert Application.objects.get(pk=pk).state == "submitted"
    assert TransitionLog.objects.filter(object_id=pk, transition="submit").count() == 1


# —— Options and the inbox ——


@pytest.mark.django_db
def test_options_say_why_a_transition_may_not_be_taken(wf):
    Application.objects.filter(pk=wf.application.pk).update(data={})
    wf.application.refresh_from_db()
    options = {o.name: o for o in engine.options(wf.application, wf.alice)}
    assert set(options) == {"submit", "withdraw"}
    assert not options["submit"].allowed
    assert options["submit"].reason == "申报书未填写完整：“基本情况”中的“项目简介”为必填项"
    assert options["withdraw"].allowed and options["withdraw"].reason == ""


@pytest.mark.django_db
def test_waiting_for_returns_what_the_user_may_act_on(wf):
    submitted = make_application(wf.call, wf.ent_b, title="乙的项目", state="submitted")
    late_call_application = make_application(
        wf.call, wf.ent_a, title="已撤回的项目", state="withdrawn", created_by=wf.alice
    )

    def names(user):
        return {
            (obj.pk, tuple(o.name for o in allowed)) for obj, allowed in engine.waiting_for(user, Application)
        }

    assert names(wf.alice) == {(wf.application.pk, ("submit", "withdraw"))}
    assert names(wf.carol) == {(submitted.pk, ("return", "pass_formal", "reject_formal"))}
    assert names(wf.bob) == set()
    assert late_call_application.pk not in {pk for pk, _ in names(wf.alice) | names(wf.carol)}

    # After the deadline alice may no longer submit, but may still withdraw.
    wf.call.opens_at = timezone.now() - timedelta(days=20)
    wf.call.closes_at = timezone.now() - timedelta(minutes=1)
    wf.call.save()
    assert names(wf.alice) == {(wf.application.pk, ("withdraw",))}


@pytest.mark.django_db
def test_a_transition_without_permission_is_open_to_anyone_who_sees_the_object(wf):
    definition = edited()
    transition(definition, "withdraw")["permission"] = ""
    engine.publish(APPLICATION, definition, user=wf.carol, note="撤回不需专门权限")
    application = make_application(wf.call, wf.ent_a, title="新项目", created_by=wf.alice)
    ann = User.objects.create_user("ann")  # enterprise A's user without any permission
    Membership.objects.create(user=ann, enterprise=wf.ent_a)
    assert not ann.has_perm("projects.add_application")
    options = {o.name: o for o in engine.options(application, ann)}
    assert options["withdraw"].allowed
    assert (options["submit"].allowed, options["submit"].reason) == (False, "无权执行“提交申报”")
