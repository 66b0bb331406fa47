"""Forms of the 双向发榜 pages. They only shape the input: every value is checked by services.py, whose
Chinese messages (naming the field, the value and what is allowed) are put next to the fields."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from kechuang.core.widgets import IsoDateInput
from kechuang.matching.models import CooperationMode, DeclineReason
from kechuang.matching.services import FIELD_LABELS, TEXT_LIMITS

FIELD_CHOICES = [("", "请选择技术领域"), *((code, f"{code} {label}") for code, label in FIELD_LABELS.items())]


def _text(
    label: str, *, required: bool = False, rows: int | None = None, help_text: str = ""
) -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput()
    return forms.CharField(label=label, required=required, widget=widget, help_text=help_text, strip=True)


class PostingForm(forms.Form):
    """The fields every posting has; required ones are marked but checked by the service."""

    title = _text("标题", required=True)
    field = forms.CharField(label="技术领域", required=False, widget=forms.Select(choices=FIELD_CHOICES))
    keywords = _text("关键词", help_text="以、或逗号分隔，如：电机、散热、相变材料；合计不超过 300 字")
    contact_name = _text("联系人")
    contact_phone = _text(
        "联系电话", help_text="如 021-57000000 或 13800000000；对接双方和科委可见全号，其他用户只见部分"
    )

    marked = ("field",)  # required by the service (which says so in Chinese), marked * on the form

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("use_required_attribute", False)  # the service says what is missing, in Chinese
        super().__init__(*args, **kwargs)


class DemandForm(PostingForm):
    description = _text(
        "需求描述",
        required=True,
        rows=8,
        help_text=f"要解决的技术问题、指标、应用场景；不超过 {TEXT_LIMITS['description']:,} 字",
    )
    budget = _text("预算（元）", help_text="可留空；以元为单位，如 500000 即 50 万元")
    deadline = forms.DateField(
        label="截止日期", required=False, widget=IsoDateInput(), help_text="可留空；不能早于今天"
    )
    field_order = [
        "title",
        "field",
        "keywords",
        "description",
        "budget",
        "deadline",
        "contact_name",
        "contact_phone",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].label = "需求名称"


class AchievementForm(PostingForm):
    organisation = _text("所属单位", help_text="科委业务人员代为发布时填写；高校/院所用户为本单位")
    abstract = _text(
        "成果简介",
        required=True,
        rows=8,
        help_text=f"技术内容、性能指标、应用领域；不超过 {TEXT_LIMITS['abstract']:,} 字",
    )
    trl = _text("技术成熟度（TRL）", help_text="1–9：1 基本原理 … 4 实验室验证 … 7 实际环境样机 … 9 规模应用")
    ip = _text("知识产权", help_text="如：发明专利 ZL2023XXXXXXXX.X")
    cooperation_modes = forms.MultipleChoiceField(
        label="合作方式", required=False, choices=CooperationMode.choices, widget=forms.CheckboxSelectMultiple
    )
    field_order = [
        "title",
        "organisation",
        "field",
        "keywords",
        "abstract",
        "trl",
        "ip",
        "cooperation_modes",
        "contact_name",
        "contact_phone",
    ]

    def __init__(self, *args, officer: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].label = "成果名称"
        if not officer:
            del self.fields["organisation"]


class TalentForm(PostingForm):
    marked = ()
    organisation = _text("所属单位", help_text="科委业务人员代为发布时填写；高校/院所用户为本单位")
    position = _text("职称/职务")
    bio = _text("研究方向与成果", required=True, rows=8, help_text=f"不超过 {TEXT_LIMITS['bio']:,} 字")
    field_order = [
        "title",
        "organisation",
        "position",
        "field",
        "keywords",
        "bio",
        "contact_name",
        "contact_phone",
    ]

    def __init__(self, *args, officer: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].label = "专家或团队名称"
        self.fields["field"].widget.choices = [("", "不限领域"), *FIELD_CHOICES[1:]]
        if not officer:
            del self.fields["organisation"]


FORMS = {"demand": DemandForm, "achievement": AchievementForm, "talent": TalentForm}


class ReasonForm(forms.Form):
    reason = forms.CharField(label="审核意见", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class StepForm(forms.Form):
    """One docking step: its date and note; 签约 the amount; 未成 the reason."""

    on = forms.DateField(label="日期", required=False, widget=IsoDateInput())
    text = forms.CharField(label="对接记录", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    amount = forms.CharField(label="合同金额（元）", required=False)
    reason = forms.CharField(
        label="未成原因",
        required=False,
        widget=forms.Select(choices=[("", "请选择原因"), *DeclineReason.choices]),
    )


class NoteForm(forms.Form):
    on = forms.DateField(label="日期", required=False, widget=IsoDateInput())
    text = forms.CharField(label="对接记录", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ImportForm(forms.Form):
    file = forms.FileField(label="文件（.xlsx，按模板填写）", allow_empty_file=True)


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's errors next to the form's fields; what no field of the form shows goes above it."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for name, messages in error.message_dict.items():
        form.add_error(name if name in form.fields else None, messages)
