"""Forms of 政策库 and 免申即享. The checks of a policy item's definition are the service's (services.item_save),
so a form, the API and the live test say the same thing."""

from __future__ import annotations

import json

from django import forms
from django.forms.models import construct_instance

from kechuang.core.widgets import IsoDateInput
from kechuang.policies.columns import FIGURES
from kechuang.policies.models import Article, PolicyDocument, PolicyItem

JSON_INVALID = "不是有效的 JSON：{error}"


class DocumentForm(forms.ModelForm):
    class Meta:
        model = PolicyDocument
        fields = [
            "title",
            "number",
            "issuer",
            "issued_on",
            "effective_from",
            "effective_to",
            "status",
            "summary",
            "full_text",
            "source",
        ]
        widgets = {
            "issued_on": IsoDateInput(),
            "effective_from": IsoDateInput(),
            "effective_to": IsoDateInput(),
            "summary": forms.Textarea(attrs={"rows": 3}),
            "full_text": forms.Textarea(attrs={"rows": 12}),
        }


class ArticleForm(forms.ModelForm):
    class Meta:
        model = Article
        fields = ["number", "title", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 4})}


class ChineseJSONField(forms.JSONField):
    default_error_messages = {"invalid": "不是有效的 JSON，请检查引号、逗号和括号"}

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2)


class ItemForm(forms.ModelForm):
    eligibility = ChineseJSONField(
        label="资格条件（JSON）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "code"}),
        help_text='每项一个对象，如 {"kind": "qualification", "qualification": "hnte", "test": "new"}；'
        "可用的数据列、资质和运算符见下方“可用数据列”",
    )
    parameters = ChineseJSONField(
        label="参数（JSON）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "class": "code"}),
        help_text='{"rate": {"label": "贴息比例", "value": 0.5, "unit": "比例"}}；单位：元、比例、数',
    )

    class Meta:
        model = PolicyItem
        fields = [
            "document",
            "article",
            "name",
            "kind",
            "description",
            "eligibility",
            "formula",
            "parameters",
            "cap_per_enterprise",
            "budget",
            "budget_rule",
            "period_kind",
            "effective_from",
            "effective_to",
        ]
        widgets = {
            "effective_from": IsoDateInput(),
            "effective_to": IsoDateInput(),
            "description": forms.Textarea(attrs={"rows": 2}),
            "formula": forms.TextInput(attrs={"class": "code", "spellcheck": "false"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document"].queryset = PolicyDocument.objects.order_by("-issued_on", "pk")
        self.fields["article"].queryset = Article.objects.select_related("document").order_by(
            "document", "order"
        )
        self.fields["article"].label_from_instance = lambda a: f"{a.document.number} {a.number}{a.title}"
        self.fields["eligibility"].initial = []
        self.fields["parameters"].initial = {}

    def _post_clean(self):
        # Only build the instance: the model's checks run in the service with the definition's (one set of messages).
        self.instance = construct_instance(self, self.instance, self._meta.fields, self._meta.exclude)


class TestForm(forms.Form):
    """The enterprise and period an item is tried on in the editor."""

    enterprise = forms.CharField(label="企业（名称、统一社会信用代码或编号）", max_length=200)
    period = forms.CharField(label="兑现期间", max_length=10, help_text="年度如 2026，季度如 2026Q2")


class RunForm(forms.Form):
    period = forms.CharField(label="兑现期间", max_length=10, help_text="年度如 2026，季度如 2026Q2")
    as_of = forms.DateField(
        label="数据截至日期",
        required=False,
        widget=IsoDateInput(),
        help_text="留空：期间最后一天（期间未结束时为今天）",
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因", max_length=300, widget=forms.TextInput())


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(label="说明", max_length=300, required=False, widget=forms.TextInput())


class FigureForm(forms.Form):
    """One enterprise's figure for a period; checked by services.figure_save (the same messages as the import)."""

    uscc = forms.CharField(label="统一社会信用代码", max_length=30)
    period = forms.CharField(label="期间", max_length=10, help_text="年度如 2026，季度如 2026Q2")
    name = forms.ChoiceField(label="数据项", choices=list(FIGURES.items()))
    value = forms.CharField(label="金额（元）", max_length=30, help_text="以元为单位，最多两位小数")
    source = forms.CharField(
        label="来源", max_length=200, required=False, help_text="如 贷款银行、保险公司、企业报送"
    )


class FigureImportForm(forms.Form):
    period = forms.CharField(label="期间", max_length=10, help_text="文件中每行的期间须与此一致")
    file = forms.FileField(label="文件（.xlsx，按模板填写）", allow_empty_file=True)
