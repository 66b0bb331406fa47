"""Forms of the workflow pages: publishing a new version from an edited JSON definition, taking a step."""

import json

from django import forms
from django.core.exceptions import ValidationError

JSON_INVALID = "定义不是有效的 JSON：第 {line} 行第 {column} 列，{message}"


class PublishForm(forms.Form):
    definition = forms.CharField(
        label="流程定义（JSON）",
        widget=forms.Textarea(
            attrs={"rows": 28, "spellcheck": "false", "style": "font-family: monospace; width: 100%"}
        ),
        error_messages={"required": "请填写流程定义。"},
    )
    note = forms.CharField(
        label="修改说明",
        max_length=300,
        error_messages={"required": "请填写修改说明。", "max_length": "修改说明不能超过 300 个字。"},
        help_text="说明改了什么、依据什么，随版本保存。",
    )

    def clean_definition(self):
        text = self.cleaned_data["definition"]
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise ValidationError(
                JSON_INVALID.format(line=error.lineno, column=error.colno, message=error.msg), code="invalid"
            ) from None


class TakeForm(forms.Form):
    transition = forms.CharField(max_length=60, error_messages={"required": "请选择要执行的操作。"})
    reason = forms.CharField(
        label="说明",
        max_length=2000,
        required=False,
        error_messages={"max_length": "说明不能超过 2000 个字。"},
    )
