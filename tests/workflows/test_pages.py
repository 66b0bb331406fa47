"""The workflow pages: adjusting a workflow (officers) and the task inbox (everyone), through HTTP."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from kechuang.projects.models import Application
from kechuang.projects.workflows import APPLICATION, APPLICATION_DEFAULT
from kechuang.workflows import engine, selectors
from kechuang.workflows.models import TransitionLog, Workflow
from tests.workflows.conftest import make_application, make_award

DETAIL = "/workflows/projects.application/"


def texts(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# —— 流程设置 ——


@pytest.mark.django_db
def test_only_officers_adjust_workflows(client, wf):
    assert client.get("/workflows/").status_code == 302  # to the login page
    for user in (wf.alice, wf.bob, wf.leo):
        client.force_login(user)
        assert client.get("/workflows/").status_code == 403
        assert client.get(DETAIL).status_code == 403
        assert client.post(DETAIL, {"definition": "{}", "note": "x"}).status_code == 403


@pytest.mark.django_db
def test_the_list_shows_each_workflow_with_its_versions_and_the_objects_on_them(client, wf):
    client.force_login(wf.carol)
    page = client.get("/workflows/").content.decode()
    assert "projects.application" in page and "项目申报" in page
    assert "v1：1 项" in page  # alice's application
    assert "projects.award" in page and "尚未使用，首次使用时以默认定义为第 1 版" in page


@pytest.mark.django_db
def test_a_version_shows_its_states_and_transitions_as_a_table(client, wf):
    client.force_login(wf.carol)
    response = client.get(DETAIL)
    page = response.content.decode()
    assert response.status_code == 200
    shown = response.context["shown"]
    assert [(code, count) for code, _, count in shown.states][:2] == [("draft", 1), ("submitted", 0)]
    approve = next(step for step in shown.steps if step.name == "approve")
    assert (approve.label, approve.sources, approve.to) == ("立项", ["评审完成"], "立项")
    assert (approve.permission_name, approve.guards) == ("新增立项", ["within_cap", "within_call_budget"])
    submit = next(step for step in shown.steps if step.name == "submit")
    assert submit.roles == ["企业用户"]
    assert "<th>可执行者（角色 / 权限）</th>" in page and "形式审查通过" in page
    # The form starts from the current definition.
    assert json.loads(response.context["form"].initial["definition"]) == APPLICATION_DEFAULT


@pytest.mark.django_db
def test_publishing_a_new_version_from_the_edited_json(client, wf):
    client.force_login(wf.carol)
    definition = json.loads(json.dumps(APPLICATION_DEFAULT))
    definition["states"]["returned"] = "退回补正"
    response = client.post(
        DETAIL,
        {"definition": json.dumps(definition, ensure_ascii=False), "note": "按新办法改称退回补正"},
        follow=True,
    )
    assert texts(response) == ["已发布 projects.application 第 2 版；已在办的对象仍按其原版本流转。"]
    latest = Workflow.objects.get(key=APPLICATION, version=2)
    assert (latest.definition["states"]["returned"], latest.published_by, latest.note) == (
        "退回补正",
        wf.carol,
        "按新办法改称退回补正",
    )
    versions = {v.number: v.objects for v in response.context["overview"].versions}
    assert versions == {2: 0, 1: 1}
    older = client.get(DETAIL + "?v=1")
    assert older.context["shown"].number == 1 and ("returned", "退回修改", 0) in older.context["shown"].states
    assert client.get(DETAIL + "?v=9").status_code == 404


@pytest.mark.parametrize(
    "definition, note, expected",
    [
        (
            "{不是 JSON",
            "改",
            "定义不是有效的 JSON：第 1 行第 2 列，Expecting property name enclosed in double quotes",
        ),
        (None, "", "请填写修改说明。"),
        ("UNKNOWN_STATE", "改", "第 1 个操作（submit）的 to 'sent' 不在 states 中"),
        ("UNKNOWN_GUARD", "改", "第 1 个操作（submit）的检查 ['has_seal'] 不存在，可用 ["),
    ],
)
@pytest.mark.django_db
def test_a_wrong_definition_is_refused_with_its_problems_listed_and_nothing_saved(
    client, wf, definition, note, expected
):
    edited = json.loads(json.dumps(APPLICATION_DEFAULT))
    if definition == "UNKNOWN_STATE":
        edited["transitions"][0]["to"] = "sent"
    if definition == "UNKNOWN_GUARD":
        edited["transitions"][0]["guards"].append("has_seal")
    if definition in (None, "UNKNOWN_STATE", "UNKNOWN_GUARD"):
        definition = json.dumps(edited)
    client.force_login(wf.carol)
    response = client.post(DETAIL, {"definition": definition, "note": note})
    assert response.status_code == 200
    page = response.content.decode()
    assert "未发布，请修改以下问题：" in page
    errors = [e for field_errors in response.context["form"].errors.values() for e in field_errors]
    assert any(e.startswith(expected) for e in errors), errors
    assert list(Workflow.objects.filter(key=APPLICATION).values_list("version", flat=True)) == [1]
    assert response.context["form"]["definition"].value() == definition  # the edit is kept to correct it


@pytest.mark.django_db
def test_an_unknown_workflow_is_not_found(client, wf):
    client.force_login(wf.carol)
    assert client.get("/workflows/projects.nothing/").status_code == 404


# —— 待办 ——


@pytest.mark.django_db
def test_the_inbox_is_in_the_menu(client, wf):
    client.force_login(wf.alice)
    assert (
        '<a href="/workflows/inbox/" class="active">待办</a>'
        in client.get("/workflows/inbox/").content.decode()
    )


@pytest.mark.django_db
def test_the_inbox_shows_each_user_what_they_may_act_on(client, wf):
    theirs = make_application(wf.call, wf.ent_b, title="乙的项目", state="submitted")
    award = make_award(make_application(wf.call, wf.ent_b, title="乙的立项项目", state="approved"))

    def rows(user):
        client.force_login(user)
        sections = client.get("/workflows/inbox/").context["sections"]
        return {s.key: {r.obj.pk: [o.name for o in r.options] for r in s.rows} for s in sections}

    assert rows(wf.alice) == {APPLICATION: {wf.application.pk: ["submit", "withdraw"]}}
    assert rows(wf.carol) == {
        APPLICATION: {theirs.pk: ["return", "pass_formal", "reject_formal"]},
        "projects.award": {award.pk: ["start"]},
    }
    assert rows(wf.bob) == {} and rows(wf.leo) == {} and rows(wf.eve) == {}
    client.force_login(wf.alice)
    page = client.get("/workflows/inbox/").content.decode()
    assert "智能制造关键技术攻关" in page and "提交申报" in page and "乙的项目" not in page
    client.force_login(wf.bob)
    assert "暂无待办事项。" in client.get("/workflows/inbox/").content.decode()


@pytest.mark.django_db
def test_taking_a_step_from_the_inbox(client, wf):
    client.force_login(wf.alice)
    url = f"/workflows/inbox/{APPLICATION}/{wf.application.pk}/"
    response = client.post(url, {"transition": "submit", "reason": ""}, follow=True)
    assert texts(response) == ["“智能制造关键技术攻关”：已提交申报，当前状态“已提交”。"]
    wf.application.refresh_from_db()
    assert wf.application.state == "submitted" and wf.application.submitted_at is not None
    assert TransitionLog.objects.get().actor == wf.alice


@pytest.mark.django_db
def test_a_return_from_the_inbox_needs_its_reasons(client, wf):
    Application.objects.filter(pk=wf.application.pk).update(state="submitted")
    client.force_login(wf.carol)
    url = f"/workflows/inbox/{APPLICATION}/{wf.application.pk}/"
    response = client.post(url, {"transition": "return", "reason": ""}, follow=True)
    assert texts(response) == ["“智能制造关键技术攻关”：退回修改须写明理由（每行一条）"]
    response = client.post(url, {"transition": "return", "reason": "预算说明不完整"}, follow=True)
    assert texts(response) == ["“智能制造关键技术攻关”：已退回修改，当前状态“退回修改”。"]
    assert TransitionLog.objects.get().reason == "预算说明不完整"


@pytest.mark.django_db
def test_a_refused_step_is_explained_in_chinese_and_changes_nothing(client, wf):
    url = f"/workflows/inbox/{APPLICATION}/{wf.application.pk}/"
    client.force_login(wf.alice)
    response = client.post(url, {"transition": "approve"}, follow=True)
    assert texts(response) == ["“智能制造关键技术攻关”：当前状态“草稿”不能执行“立项”"]
    response = client.post(url, {"transition": "nonsense"}, follow=True)
    assert texts(response) == ["“智能制造关键技术攻关”：流程 projects.application v1 没有操作 nonsense"]
    wf.call.opens_at = timezone.now() - timedelta(days=20)
    wf.call.closes_at = timezone.now() - timedelta(minutes=1)
    wf.call.save()
    response = client.post(url, {"transition": "submit"}, follow=True)
    (message,) = texts(response)
    assert message.startswith("“智能制造关键技术攻关”：已过申报截止时间 ")
    client.force_login(wf.bob)  # park A's operator sees the application but may not submit it
    response = client.post(url, {"transition": "withdraw"}, follow=True)
    assert texts(response) == ["“智能制造关键技术攻关”：无权执行“撤回申报”"]
    wf.application.refresh_from_db()
    assert wf.application.state == "draft" and not TransitionLog.objects.exists()


@pytest.mark.django_db
def test_objects_outside_the_users_scope_are_not_found(client, wf):
    theirs = make_application(wf.call, wf.ent_b, title="乙的项目")
    client.force_login(wf.alice)
    assert (
        client.post(f"/workflows/inbox/{APPLICATION}/{theirs.pk}/", {"transition": "withdraw"}).status_code
        == 404
    )
    assert (
        client.post(f"/workflows/inbox/{APPLICATION}/999999/", {"transition": "withdraw"}).status_code == 404
    )
    assert (
        client.post(f"/workflows/inbox/projects.nothing/{theirs.pk}/", {"transition": "x"}).status_code == 404
    )
    assert client.get(f"/workflows/inbox/{APPLICATION}/{wf.application.pk}/").status_code == 405
    theirs.refresh_from_db()
    assert theirs.state == "draft"


def test_a_definition_is_edited_in_the_order_the_work_goes():
    """PostgreSQL's jsonb sorts keys: the page orders states by the workflow and keys in a fixed order."""
    shuffled = {
        "transitions": [
            {"to": "b", "name": "go", "guards": [], "from": ["a"], "label": "走", "permission": ""}
        ],
        "states": {"b": "乙", "a": "甲"},
        "initial": "a",
    }
    assert selectors.ordered_states(shuffled) == ["a", "b"]
    assert selectors.definition_json(shuffled) == json.dumps(
        {
            "initial": "a",
            "states": {"a": "甲", "b": "乙"},
            "transitions": [
                {"name": "go", "label": "走", "from": ["a"], "to": "b", "permission": "", "guards": []}
            ],
        },
        ensure_ascii=False,
        indent=2,
    )


@pytest.mark.django_db
def test_versions_and_the_log_are_read_only_in_the_admin(admin_client, wf):
    client = admin_client
    engine.take(wf.application, "withdraw", wf.alice, "重复申报")
    version = Workflow.objects.get(key=APPLICATION)
    for url, model in (
        ("/admin/workflows/workflow/", Workflow),
        ("/admin/workflows/transitionlog/", TransitionLog),
    ):
        response = client.get(url)
        assert (
            response.status_code == 200 and response.context["cl"].result_count == model.objects.count() > 0
        )
        assert client.get(url + "add/").status_code == 403
    page = client.get(f"/admin/workflows/workflow/{version.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.post(f"/admin/workflows/workflow/{version.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Workflow.objects.filter(pk=version.pk).exists()


@pytest.mark.django_db
def test_known_states_follow_the_work_whatever_order_the_database_keeps_and_add_later_versions_states():
    engine.current(APPLICATION)
    reversed_keys = dict(reversed(list(APPLICATION_DEFAULT["states"].items())))  # as jsonb may give them back
    Workflow.objects.filter(key=APPLICATION, version=1).update(
        definition=APPLICATION_DEFAULT | {"states": reversed_keys}
    )
    later = dict(APPLICATION_DEFAULT)
    later["states"] = {"on_hold": "暂缓", **APPLICATION_DEFAULT["states"]}
    later["transitions"] = [
        *APPLICATION_DEFAULT["transitions"],
        {"name": "hold", "label": "暂缓", "from": ["submitted"], "to": "on_hold", "permission": "", "guards": []},
    ]
    Workflow.objects.create(key=APPLICATION, version=2, definition=later)
    known = selectors.known_states(APPLICATION)
    assert [state for state, _ in known[: len(APPLICATION_DEFAULT["states"])]] == selectors.ordered_states(
        APPLICATION_DEFAULT
    )
    assert known[0][0] == APPLICATION_DEFAULT["initial"]
    assert known[-1] == ("on_hold", "暂缓")
    assert len(known) == len(APPLICATION_DEFAULT["states"]) + 1
