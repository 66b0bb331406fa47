"""Plan tasks: the overdue rule, progress notes and status changes (tasks.py), the reads (task_selectors.py)."""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from kechuang.indicators import task_selectors as sel
from kechuang.indicators import tasks as services
from kechuang.indicators.models import PlanTask, ResponsibleUnit, TaskNote, TaskStatus

TODAY = date(2026, 6, 30)
DEADLINE = date(2026, 12, 31)


@pytest.fixture
def task(db):
    return PlanTask.objects.get(document="004", kind="reform_task", number=1)


@pytest.fixture
def officer(db):
    return User.objects.create_user("officer-x", first_name="张科员")


def messages_of(error: ValidationError) -> dict[str, str]:
    return {field: " ".join(texts) for field, texts in error.message_dict.items()}


def unchanged(task, status=TaskStatus.NOT_STARTED, progress=0, notes=0):
    task.refresh_from_db()
    return (task.status, task.progress, task.notes.count()) == (status, progress, notes)


# The overdue rule.


@pytest.mark.django_db
def test_overdue_only_after_the_deadline_and_while_not_done(task):
    assert task.deadline == DEADLINE
    assert not sel.is_overdue(task, DEADLINE - timedelta(days=1))
    assert not sel.is_overdue(task, DEADLINE)  # the deadline day itself is still in time
    assert sel.is_overdue(task, DEADLINE + timedelta(days=1))
    task.status = TaskStatus.SUSPENDED
    assert sel.is_overdue(task, DEADLINE + timedelta(days=1))  # suspending does not move the deadline
    task.status = TaskStatus.DONE
    assert not sel.is_overdue(task, DEADLINE + timedelta(days=1))


@pytest.mark.django_db
def test_overdue_filter_and_annotation_agree_with_is_overdue(task):
    PlanTask.objects.filter(pk=task.pk).update(status=TaskStatus.DONE, progress=100)
    for today, expected in (
        (DEADLINE - timedelta(days=1), 0),
        (DEADLINE, 0),
        (DEADLINE + timedelta(days=1), 35),
    ):
        overdue = sel.tasks(sel.TaskFilters(overdue="1"), today=today)
        assert overdue.count() == expected, today
        assert sel.tasks(sel.TaskFilters(overdue="0"), today=today).count() == 36 - expected
        for t in sel.tasks(today=today):
            assert t.overdue == sel.is_overdue(t, today), (t, today)
    assert (
        not sel.tasks(sel.TaskFilters(overdue="1"), today=DEADLINE + timedelta(days=1))
        .filter(pk=task.pk)
        .exists()
    )


# Notes and status.


@pytest.mark.django_db
def test_note_with_progress_moves_the_task_forward_and_done_at_100(task, officer):
    note = services.add_note(
        task, date=TODAY, text="管理机构已成立", progress=40, author=officer, today=TODAY
    )
    assert (note.progress, note.author, note.date) == (40, officer, TODAY)
    assert unchanged(task, TaskStatus.IN_PROGRESS, 40, 1)
    assert task.history.first().history_user == officer
    services.add_note(task, date=TODAY, text="补充说明，无进度", progress=None, author=officer, today=TODAY)
    assert unchanged(task, TaskStatus.IN_PROGRESS, 40, 2)
    services.add_note(task, date=TODAY, text="全部完成", progress=100, author=officer, today=TODAY)
    assert unchanged(task, TaskStatus.DONE, 100, 3)


@pytest.mark.django_db
def test_backwards_progress_needs_a_reason(task, officer):
    services.add_note(
        task, date=TODAY - timedelta(days=10), text="推进", progress=60, author=officer, today=TODAY
    )
    with pytest.raises(ValidationError) as error:
        services.add_note(task, date=TODAY, text="重新评估", progress=40, author=officer, today=TODAY)
    assert "reason" in messages_of(error.value)
    assert "60%" in messages_of(error.value)["reason"] and "40%" in messages_of(error.value)["reason"]
    assert "下调原因" in messages_of(error.value)["reason"]
    assert unchanged(task, TaskStatus.IN_PROGRESS, 60, 1)
    note = services.add_note(
        task,
        date=TODAY,
        text="重新评估",
        progress=40,
        reason="部分工作调整至2026年",
        author=officer,
        today=TODAY,
    )
    assert "【进度下调】60% → 40%：部分工作调整至2026年" in note.text
    assert unchanged(task, TaskStatus.IN_PROGRESS, 40, 2)


@pytest.mark.django_db
def test_a_done_task_lowered_with_a_reason_is_in_progress_again(task, officer):
    services.add_note(task, date=TODAY, text="完成", progress=100, author=officer, today=TODAY)
    services.add_note(
        task, date=TODAY, text="验收未通过", progress=80, reason="验收意见需整改", author=officer, today=TODAY
    )
    assert unchanged(task, TaskStatus.IN_PROGRESS, 80, 2)


@pytest.mark.django_db
def test_a_backdated_note_is_history_and_changes_nothing(task, officer):
    services.add_note(task, date=TODAY, text="六月进展", progress=50, author=officer, today=TODAY)
    note = services.add_note(
        task,
        date=TODAY - timedelta(days=90),
        text="三月进展（补录）",
        progress=20,
        author=officer,
        today=TODAY,
    )
    assert note.progress == 20 and "进度下调" not in note.text
    assert unchanged(task, TaskStatus.IN_PROGRESS, 50, 2)
    assert [n.text for n in sel.task_notes(task)] == ["六月进展", "三月进展（补录）"]  # newest first


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"text": "   "}, "text", ["进展说明不能为空"]),
        ({"progress": 101}, "progress", ["进度（%）", "0 到 100", "101"]),
        ({"progress": -1}, "progress", ["进度（%）", "-1"]),
        ({"progress": "50"}, "progress", ["进度（%）", "50"]),
        ({"date": TODAY + timedelta(days=1)}, "date", ["日期", "2026-07-01", "晚于今天", "2026-06-30"]),
        ({"date": "2026-06-01"}, "date", ["日期", "2026-06-01"]),
    ],
)
@pytest.mark.django_db
def test_bad_notes_are_refused_with_chinese_messages_and_nothing_saved(task, officer, kwargs, field, words):
    args = {"date": TODAY, "text": "进展", "progress": 30, "author": officer, "today": TODAY} | kwargs
    with pytest.raises(ValidationError) as error:
        services.add_note(task, **args)
    message = messages_of(error.value)[field]
    for word in words:
        assert word in message, message
    assert unchanged(task) and not TaskNote.objects.filter(task=task).exists()


@pytest.mark.django_db
def test_set_status_records_who_changed_what(task, officer):
    services.set_status(task, TaskStatus.SUSPENDED, author=officer, today=TODAY)
    assert unchanged(task, TaskStatus.SUSPENDED, 0, 1)
    note = task.notes.get()
    assert (note.text, note.author, note.date, note.progress) == (
        "【状态调整】未开始 → 暂缓",
        officer,
        TODAY,
        None,
    )
    # A suspended task stays suspended as progress is noted, until it is done.
    services.add_note(task, date=TODAY, text="部分推进", progress=30, author=officer, today=TODAY)
    assert unchanged(task, TaskStatus.SUSPENDED, 30, 2)
    services.set_status(task, TaskStatus.IN_PROGRESS, author=officer, today=TODAY)
    assert unchanged(task, TaskStatus.IN_PROGRESS, 30, 3)
    services.set_status(task, TaskStatus.DONE, author=officer, today=TODAY)
    assert unchanged(task, TaskStatus.DONE, 100, 4)
    assert task.notes.order_by("-pk").first().progress == 100


@pytest.mark.parametrize(
    ("start", "progress", "status", "words"),
    [
        ("not_started", 0, "finished", ["状态“finished”无效", "未开始"]),
        ("not_started", 0, "not_started", ["已是“未开始”"]),
        ("in_progress", 30, "not_started", ["30%", "未开始", "not_started"]),
        ("done", 100, "in_progress", ["100%", "推进中", "in_progress"]),
        ("done", 100, "suspended", ["已完成的任务", "暂缓", "suspended"]),
    ],
)
@pytest.mark.django_db
def test_bad_status_changes_are_refused(task, officer, start, progress, status, words):
    PlanTask.objects.filter(pk=task.pk).update(status=start, progress=progress)
    with pytest.raises(ValidationError) as error:
        services.set_status(task, status, author=officer, today=TODAY)
    message = messages_of(error.value)["status"]
    for word in words:
        assert word in message, message
    assert unchanged(task, start, progress, 0)


# Reads.


@pytest.mark.django_db
def test_search_filters_and_sorting():
    def titles(**filters):
        return [t.title for t in sel.tasks(sel.TaskFilters(**filters), today=TODAY)]

    assert titles(q="脑机接口") == [
        "前瞻布局未来产业和前沿领域",  # 001 (十二)
        "生命健康产业提升计划",  # 004 附件3 序号4 (content)
        "脑机接口未来产业布局",  # 004 附件3 序号5 (title)
    ]
    assert titles(q="g60科创之眼") == ["创新生态活力倍增行动", "长三角 G60科创之眼项目建设"]
    assert len(titles(kind="service")) == 10 and len(titles(document="001")) == 15
    unit = ResponsibleUnit.objects.get(name="各子园")
    assert titles(unit=str(unit.pk)) == ["政策宣贯", "人才公寓服务", "知识产权"]
    # The documents' order: 001, then 004's 附件2, 附件3, 附件5.
    ordered = list(sel.tasks(today=TODAY))
    assert [(t.document, t.kind) for t in (ordered[0], ordered[15], ordered[20], ordered[26])] == [
        ("001", "work_item"),
        ("004", "reform_task"),
        ("004", "key_project"),
        ("004", "service"),
    ]
    PlanTask.objects.filter(kind="service", number=2).update(progress=70, status="in_progress")
    PlanTask.objects.filter(kind="work_item", number=3).update(deadline=date(2026, 3, 31))
    assert titles(sort="-progress")[0] == "环境优化"
    assert titles(sort="progress")[-1] == "环境优化"
    assert titles(sort="deadline")[0] == "提高企业精准服务能级"
    assert titles(sort="-deadline")[-1] == "提高企业精准服务能级"
    assert titles(status="in_progress") == ["环境优化"]
    assert (
        sel.TaskFilters.from_params({"kind": "nope", "sort": "drop table", "unit": "x", "overdue": "2"})
        == sel.TaskFilters()
    )


@pytest.mark.django_db
def test_unit_summary_counts_done_and_overdue():
    kewei = ResponsibleUnit.objects.get(name="区科委")
    # 附件2 all five, 附件3 序号5, 附件5 序号1 and 5, the fifteen work items.
    assert sel.unit_summary(kewei, today=TODAY) == {"task_count": 23, "done_count": 0, "overdue_count": 0}
    PlanTask.objects.filter(kind="work_item", number__lte=3).update(status="done", progress=100)
    after = DEADLINE + timedelta(days=1)
    assert sel.unit_summary(kewei, today=after) == {"task_count": 23, "done_count": 3, "overdue_count": 20}
    rows = {u.name: u for u in sel.units_summary(today=after, sort="overdue")}
    assert (rows["区科委"].task_count, rows["区科委"].done_count, rows["区科委"].overdue_count) == (23, 3, 20)
    assert (rows["区经委"].task_count, rows["区经委"].overdue_count) == (3, 3)
    assert list(rows)[0] == "区科委"
    assert [u.name for u in sel.units_summary(today=after, q="子园")] == ["各子园"]
    assert sum(u.task_count for u in sel.units_summary(today=after)) == sum(
        t.units.count() for t in PlanTask.objects.all()
    )
