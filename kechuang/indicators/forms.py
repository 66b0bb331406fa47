"""Forms of the monitoring pages. They only gather what was typed: every check is the service's
(services.observation_errors, add_target_part), so a form, an import and the API say the same thing."""

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from kechuang.core import roles
from kechuang.enterprises.models import Park
from kechuang.indicators.models import Frequency, Indicator, ResponsibleUnit


def _parks():
    return Park.objects.order_by("parent_id", "name")


class ObservationForm(forms.Form):
    year = forms.CharField(label="年份", widget=forms.NumberInput(attrs={"min": 2000, "step": 1}))
    sub_period = forms.CharField(label="季度/月份", required=False)
    park = forms.ModelChoiceField(
        label="园区", queryset=_parks(), required=False, empty_label="全区（不分园区）"
    )
    value = forms.CharField(
        label="数值", widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
    )
    source = forms.CharField(label="数据来源", max_length=200, required=False)
    note = forms.CharField(label="备注", max_length=300, required=False)

    def __init__(self, *args, indicator: Indicator, **kwargs):
        super().__init__(*args, **kwargs)
        self.indicator = indicator
        this_year = timezone.localdate().year
        self.fields["year"].widget.attrs["max"] = this_year
        self.fields["year"].initial = this_year - 1
        self.fields["value"].label = f"数值（{indicator.unit}）"
        self.fields["source"].help_text = f"如 {indicator.data_source}；留空记为“业务录入”"
        sub = self.fields["sub_period"]
        if indicator.frequency == Frequency.QUARTER:
            sub.label = "季度"
            sub.widget = forms.Select(
                choices=[("", "请选择"), *((str(q), f"第{q}季度") for q in range(1, 5))]
            )
        elif indicator.frequency == Frequency.MONTH:
            sub.label = "月份"
            sub.widget = forms.Select(choices=[("", "请选择"), *((str(m), f"{m}月") for m in range(1, 13))])
        else:
            sub.widget = forms.HiddenInput()
            sub.initial = "0"


class CorrectionForm(forms.Form):
    value = forms.CharField(
        label="更正后的数值", widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
    )
    note = forms.CharField(label="更正原因", max_length=300, required=False)


def _owners():
    names = [roles.OFFICER.name, roles.LEADER.name]
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__name__in=names) | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        full = user.get_full_name()
        return f"{full}（{user.username}）" if full else user.username


class TargetPartForm(forms.Form):
    year = forms.CharField(label="目标年", widget=forms.NumberInput(attrs={"step": 1}))
    value = forms.CharField(
        label="目标值", widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
    )
    park = forms.ModelChoiceField(label="园区", queryset=_parks(), required=False, empty_label="（不按园区）")
    unit = forms.ModelChoiceField(
        label="责任单位",
        queryset=ResponsibleUnit.objects.order_by("name"),
        required=False,
        empty_label="（不按责任单位）",
    )
    owner = OwnerChoiceField(label="负责人", queryset=_owners(), required=False, empty_label="（暂不指定）")
    baseline_value = forms.CharField(
        label="基期值", required=False, help_text="按园区分解须填写该园区的基期值；其他留空则取总目标的基期值"
    )
    note = forms.CharField(label="说明", max_length=300, required=False)

    def __init__(self, *args, indicator: Indicator, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["value"].label = f"目标值（{indicator.unit}）"
        self.fields["baseline_value"].label = f"基期值（{indicator.unit}）"
        self.fields["owner"].queryset = _owners()


class ImportForm(forms.Form):
    file = forms.FileField(label="文件（.xlsx，按模板填写）", allow_empty_file=True)


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's errors next to the form's fields; what no visible field shows goes above the form."""
    for field, messages in error.message_dict.items():
        shown = field if field in form.fields and not form.fields[field].widget.is_hidden else None
        for message in messages:
            form.add_error(shown, message)
