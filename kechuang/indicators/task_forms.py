"""The forms of the task page: they parse what was typed; the rules are in tasks.py (add_note, set_status),
whose ValidationError the views put back on these forms' fields."""

from django import forms
from django.utils import timezone

from kechuang.core.widgets import IsoDateInput
from kechuang.indicators.models import TaskStatus


class NoteForm(forms.Form):
    date = forms.DateField(label="日期", widget=IsoDateInput())
    progress = forms.IntegerField(
        label="进度（%）",
        required=False,
        help_text="0–100 的整数；留空表示本次不更新进度",
        widget=forms.NumberInput(attrs={"min": 0, "max": 100, "step": 1}),
    )
    text = forms.CharField(label="进展", widget=forms.Textarea(attrs={"rows": 4}), required=False)
    reason = forms.CharField(
        label="下调原因",
        required=False,
        help_text="进度低于当前进度时必填",
        widget=forms.TextInput(),
    )

    def __init__(self, *args, task=None, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("date", timezone.localdate())
        if task is not None:
            kwargs["initial"].setdefault("progress", task.progress)
        super().__init__(*args, **kwargs)


class StatusForm(forms.Form):
    status = forms.ChoiceField(label="状态", choices=TaskStatus.choices)

    def __init__(self, *args, task=None, **kwargs):
        if task is not None:
            kwargs.setdefault("initial", {"status": task.status})
        super().__init__(*args, **kwargs)
