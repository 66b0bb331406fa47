"""Forms of tiering: starting an assessment run."""

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from kechuang.core.widgets import IsoDateInput

EARLIEST = date(2000, 1, 1)

DATE_INVALID = "评价日期“{value}”不是有效的日期，请按 YYYY-MM-DD 填写（如 2026-06-30）。"
DATE_TOO_EARLY = "评价日期 {value} 早于 2000-01-01：请填写 2000 年以后的日期。"
DATE_TOO_LATE = "评价日期 {value} 晚于一年以后（{limit}）：最多只能评价到一年以后的日期。"


def a_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


class AssessmentDateField(forms.DateField):
    """A date whose error names the field and the value typed."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError:
            raise ValidationError(
                DATE_INVALID.format(value=str(value).strip()[:30]), code="invalid"
            ) from None


class RunForm(forms.Form):
    assessed_on = AssessmentDateField(
        label="评价日期",
        help_text="按该日期评价：年度数据取其前三个年度，资质按该日是否在有效期内。",
        error_messages={"required": "请填写评价日期。"},
        widget=IsoDateInput(),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assessed_on"].initial = timezone.localdate()

    def clean_assessed_on(self) -> date:
        value = self.cleaned_data["assessed_on"]
        if value < EARLIEST:
            raise ValidationError(DATE_TOO_EARLY.format(value=value.isoformat()), code="too_early")
        limit = a_year_after(timezone.localdate())
        if value > limit:
            raise ValidationError(
                DATE_TOO_LATE.format(value=value.isoformat(), limit=limit.isoformat()), code="too_late"
            )
        return value
