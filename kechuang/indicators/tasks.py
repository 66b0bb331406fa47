"""计划任务的写操作: an officer's progress note, and a change of status. Each checks its input first and
raises django.core.exceptions.ValidationError (a Chinese message naming the field and the value it got)
before anything is saved; what passes is saved in one transaction, with the history of the task.

Rules (also on the task page):

- A note needs text; its date is a real date not after today; its progress, if given, is a whole number
  from 0 to 100 (None: the note records no progress).
- The task's progress and status follow its latest note by date (then by entry order) that gives a
  progress. A note dated before such a note is history: it is kept but changes neither.
- Progress going backwards (below the task's progress, from the note that becomes the latest) needs a
  reason: `reason` must say why, and is kept in the note's text as "【进度下调】60% → 40%：reason".
- Status from progress: 100 → 已完成; a suspended (暂缓) task below 100 stays suspended; above 0 → 推进中;
  0 → 未开始 unless the task was 推进中 (started, nothing measurable yet).
- set_status: 已完成 sets the progress to 100; 未开始 only while the progress is 0; 推进中 only below
  100 (a done task is reopened by a note lowering the progress, with its reason); a done task cannot be
  suspended; setting the status a task already has is refused. Each change is recorded as a note by
  `author`, so the task page shows who changed what and when.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kechuang.indicators.models import PlanTask, TaskNote, TaskStatus

TEXT_MAX = 4000
REASON_MAX = 500
BACKWARDS_NOTE = "【进度下调】{old}% → {new}%：{reason}"
STATUS_NOTE = "【状态调整】{old} → {new}"


def add_note(
    task: PlanTask,
    *,
    date: dt.date,
    text: str,
    progress: int | None,
    author,
    reason: str = "",
    today: dt.date | None = None,
) -> TaskNote:
    """Records a progress note of `task` and, when the note is the task's latest with a progress,
    updates the task's progress and status (rules in the module docstring)."""
    today = today or timezone.localdate()
    text = (text or "").strip()
    reason = (reason or "").strip()
    errors: dict[str, str] = {}
    if not text:
        errors["text"] = f"进展说明不能为空（收到“{text}”）。"
    elif len(text) > TEXT_MAX:
        errors["text"] = f"进展说明最多 {TEXT_MAX} 个字，收到 {len(text)} 个字。"
    if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
        errors["date"] = f"日期“{date}”不是有效日期（YYYY-MM-DD）。"
    elif date > today:
        errors["date"] = f"日期 {date.isoformat()} 晚于今天（{today.isoformat()}），不能填报未来的进展。"
    if progress is not None and (
        isinstance(progress, bool) or not isinstance(progress, int) or not 0 <= progress <= 100
    ):
        errors["progress"] = f"进度（%）须为 0 到 100 之间的整数，收到“{progress}”。"
    if len(reason) > REASON_MAX:
        errors["reason"] = f"下调原因最多 {REASON_MAX} 个字，收到 {len(reason)} 个字。"
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        task = PlanTask.objects.select_for_update().get(pk=task.pk)
        current = progress is not None and not _later_progress_note(task, date).exists()
        if current and progress < task.progress:
            if not reason:
                raise ValidationError(
                    {
                        "reason": f"进度由 {task.progress}% 下调为 {progress}%，须填写下调原因"
                        f"（进度（%）：{progress}，下调原因：“”）。"
                    }
                )
            text = f"{text}\n{BACKWARDS_NOTE.format(old=task.progress, new=progress, reason=reason)}"
        note = TaskNote.objects.create(task=task, date=date, text=text, progress=progress, author=author)
        if current and (progress != task.progress or _status_for(task.status, progress) != task.status):
            task.status = _status_for(task.status, progress)
            task.progress = progress
            task._history_user = author
            task.save(update_fields=["progress", "status"])
    return note


def set_status(task: PlanTask, status: str, *, author, today: dt.date | None = None) -> PlanTask:
    """Changes the task's status by hand (suspend, resume, finish…; rules in the module docstring),
    recording the change as a note by `author`. Returns the task as saved."""
    today = today or timezone.localdate()
    if status not in TaskStatus.values:
        labels = "、".join(f"{value}（{label}）" for value, label in TaskStatus.choices)
        raise ValidationError({"status": f"状态“{status}”无效，可选：{labels}。"})
    with transaction.atomic():
        task = PlanTask.objects.select_for_update().get(pk=task.pk)
        old, new = TaskStatus(task.status), TaskStatus(status)
        if old == new:
            raise ValidationError({"status": f"任务状态已是“{new.label}”，未作改动。"})
        if new == TaskStatus.NOT_STARTED and task.progress > 0:
            raise ValidationError(
                {
                    "status": f"任务进度为 {task.progress}%，不能改为“{new.label}”（状态：{status}）；请先填报进展下调进度。"
                }
            )
        if new == TaskStatus.IN_PROGRESS and task.progress >= 100:
            raise ValidationError(
                {
                    "status": f"任务进度为 100%，不能改为“{new.label}”（状态：{status}）；请填报进展下调进度并说明原因。"
                }
            )
        if new == TaskStatus.SUSPENDED and old == TaskStatus.DONE:
            raise ValidationError({"status": f"已完成的任务不能改为“{new.label}”（状态：{status}）。"})
        note_progress = None
        if new == TaskStatus.DONE:
            note_progress = task.progress = 100
        task.status = new
        task._history_user = author
        task.save(update_fields=["progress", "status"])
        TaskNote.objects.create(
            task=task,
            date=today,
            text=STATUS_NOTE.format(old=old.label, new=new.label),
            progress=note_progress,
            author=author,
        )
    return task


def _later_progress_note(task: PlanTask, date: dt.date):
    """Notes of the task with a progress dated after `date`: while one exists, a note of `date` is history."""
    return TaskNote.objects.filter(task=task, progress__isnull=False, date__gt=date)


def _status_for(status: str, progress: int) -> str:
    if progress >= 100:
        return TaskStatus.DONE
    if status == TaskStatus.SUSPENDED:
        return TaskStatus.SUSPENDED
    if progress > 0:
        return TaskStatus.IN_PROGRESS
    return TaskStatus.IN_PROGRESS if status == TaskStatus.IN_PROGRESS else TaskStatus.NOT_STARTED
