"""Forms of the 认定登记 pages. They only read what was typed: amounts in 万元 (turned into yuan for the
services), dates with the browser's date picker; every rule is the services' (contracts.py, transformation.py),
whose Chinese messages land next to the field they name (`add_errors`)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory

from kechuang.core.money import wan_to_yuan
from kechuang.core.widgets import IsoDateInput
from kechuang.enterprises.choices import HitechField
from kechuang.recognitions.choices import SUB_TYPES, ContractType, Exclusion, PaymentMode, SubType
from kechuang.recognitions.transformation import REVIEW_SHEET

WAN = {"max_digits": 18, "decimal_places": 6, "min_value": Decimal("0")}


def add_errors(form: forms.Form, error: ValidationError, aliases: dict[str, str] | None = None) -> None:
    """A service's ValidationError onto the form: under the field it names (or its alias), else at the top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for key, messages in error.message_dict.items():
        key = (aliases or {}).get(key, key)
        form.add_error(key if key in form.fields else None, messages)


def yuan(value: Decimal | None) -> Decimal | None:
    return wan_to_yuan(value) if value is not None else None


def _sub_type_choices() -> list:
    labels = dict(SubType.choices)
    groups = [("", "请选择")]
    for contract_type, sub_types in SUB_TYPES.items():
        groups.append((ContractType(contract_type).label, [(s, labels[s]) for s in sub_types]))
    return groups


class ContractForm(forms.Form):
    contract_no = forms.CharField(label="合同编号", max_length=60, help_text="当事人自编的合同编号")
    name = forms.CharField(label="项目名称", max_length=200)
    contract_type = forms.ChoiceField(
        label="合同类型", choices=[("", "请选择"), *ContractType.choices], help_text="民法典第八百四十三条"
    )
    sub_type = forms.ChoiceField(label="合同子类", choices=_sub_type_choices)
    seller_name = forms.CharField(label="卖方名称", max_length=200)
    seller_uscc = forms.CharField(
        label="卖方统一社会信用代码", max_length=40, help_text="卖方在企业库中时自动关联"
    )
    seller_region = forms.CharField(label="卖方行政区划代码", max_length=10, required=False, initial="310117")
    buyer_name = forms.CharField(label="买方名称", max_length=200)
    buyer_uscc = forms.CharField(label="买方统一社会信用代码", max_length=40, required=False)
    buyer_region = forms.CharField(
        label="买方行政区划代码", max_length=10, required=False, help_text="GB/T 2260，6 位；境外买方不填"
    )
    buyer_country = forms.CharField(
        label="买方国别", max_length=10, initial="CHN", help_text="3 位代码，境内为 CHN"
    )
    signed_on = forms.DateField(label="签订日期", widget=IsoDateInput())
    valid_from = forms.DateField(label="合同有效期自", widget=IsoDateInput())
    valid_to = forms.DateField(label="合同有效期至", widget=IsoDateInput())
    total_amount = forms.DecimalField(label="成交额（万元）", **WAN)
    tech_amount = forms.DecimalField(
        label="技术交易额（万元）", **WAN, help_text="成交额中技术部分的金额，不超过成交额"
    )
    payment_mode = forms.ChoiceField(
        label="支付方式", choices=[("", "请选择"), *PaymentMode.choices], help_text="民法典第八百四十六条"
    )

    SELLER_FIELDS = ("seller_name", "seller_uscc")

    def __init__(self, *args, seller=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.seller = seller
        if seller is not None:  # the seller's own user: the seller is its enterprise
            for name in self.SELLER_FIELDS:
                del self.fields[name]

    def data_for_service(self) -> dict:
        data = dict(self.cleaned_data)
        data["total_amount"] = yuan(data.get("total_amount"))
        data["tech_amount"] = yuan(data.get("tech_amount"))
        return data


class RegisterForm(forms.Form):
    registration_no = forms.CharField(
        label="合同登记编号",
        max_length=30,
        required=False,
        help_text="16 位；留空则由平台按“年份 + 区划代码 + 当年序号”编号",
    )
    registered_on = forms.DateField(label="登记日期", widget=IsoDateInput())


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因", widget=forms.Textarea(attrs={"rows": 2}), required=False)


class PlanRowForm(forms.Form):
    """One planned payment; a row left wholly blank is ignored."""

    due_date = forms.DateField(label="计划付款日期", required=False, widget=IsoDateInput())
    amount = forms.DecimalField(label="计划金额（万元）", required=False, **WAN)
    note = forms.CharField(label="说明", max_length=200, required=False)

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return not any(data.get(k) not in (None, "") for k in ("due_date", "amount", "note"))


PlanFormSet = formset_factory(PlanRowForm, extra=0, min_num=1, max_num=36, validate_max=True)


class PlanNoteForm(forms.Form):
    note = forms.CharField(
        label="付款计划说明",
        max_length=300,
        required=False,
        help_text="各期合计与成交额不一致时须写明原因（如提成支付的金额无法预先确定）",
    )


class PaymentForm(forms.Form):
    amount = forms.DecimalField(label="本次付款金额（万元）", **WAN)
    paid_on = forms.DateField(label="付款日期", widget=IsoDateInput())


class ProjectForm(forms.Form):
    enterprise = forms.ModelChoiceField(label="申请单位", queryset=None, empty_label=None)
    name = forms.CharField(label="项目名称", max_length=200)
    product = forms.CharField(label="产品（服务）名称", max_length=200)
    field = forms.ChoiceField(
        label="高新技术领域",
        choices=[("", "请选择"), *HitechField.choices],
        required=False,
        help_text="核心技术所属《国家重点支持的高新技术领域》（第六条第（一）项）",
    )
    field_detail = forms.CharField(label="细分领域", max_length=100, required=False)
    first_transformed_on = forms.DateField(
        label="首次转化日期", required=False, widget=IsoDateInput(), help_text="首次转化为样品、样机或服务"
    )
    test_report_no = forms.CharField(
        label="第三方检测报告编号", max_length=60, required=False, help_text="第六条第（四）项"
    )
    description = forms.CharField(
        label="技术内容与创新点", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    core_ip = forms.ModelMultipleChoiceField(
        label="核心知识产权",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="发明专利、集成电路布图设计 3 年内，实用新型、软件著作权 2 年内（第六条第（二）项）",
    )
    no_infringement = forms.BooleanField(label="本单位近两年内无知识产权侵权行为", required=False)
    no_accident = forms.BooleanField(
        label="本单位近两年内无重大安全、质量事故，无严重环境违法、科研失信行为", required=False
    )
    not_dishonest = forms.BooleanField(label="本单位未被列入严重违法失信名单", required=False)

    def __init__(self, *args, enterprises, ips, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].queryset = enterprises
        self.fields["core_ip"].queryset = ips
        self.fields["core_ip"].label_from_instance = lambda ip: (
            f"{ip.get_ip_type_display()} {ip.number} {ip.title}（{ip.grant_date or '未授权'}）"
        )
        if enterprises.count() == 1:
            self.fields["enterprise"].widget = forms.HiddenInput()
            self.fields["enterprise"].initial = enterprises.first().pk

    def data_for_service(self) -> tuple[dict, list[int]]:
        data = dict(self.cleaned_data)
        ips = [ip.pk for ip in data.pop("core_ip", [])]
        data.pop("enterprise", None)
        return data, ips


class ExclusionForm(forms.Form):
    exclusion = forms.ChoiceField(label="不予认定情形", choices=Exclusion.choices)
    exclusion_note = forms.CharField(label="判断说明", max_length=300, required=False)


class RecommendForm(forms.Form):
    opinion = forms.CharField(label="推荐意见", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RecognitionForm(forms.Form):
    certificate_no = forms.CharField(label="证书编号", max_length=40)
    recognised_on = forms.DateField(label="认定日期", widget=IsoDateInput())
    note = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AssignForm(forms.Form):
    expert = forms.ChoiceField(label="评审专家")

    def __init__(self, *args, experts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expert"].choices = [("", "请选择")] + [
            (e.pk, f"{e.name}（{e.organisation}）") for e, reasons in experts if not reasons
        ]


class ReviewForm(forms.Form):
    opinion = forms.CharField(label="评审意见", widget=forms.Textarea(attrs={"rows": 4}))
    recommend = forms.TypedChoiceField(
        label="结论",
        choices=[("yes", "建议认定"), ("no", "不建议认定")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for item in REVIEW_SHEET:
            self.fields[f"score_{item['key']}"] = forms.CharField(
                label=f"{item['label']}（0–{item['max']}）", max_length=10
            )
        self.order_fields([f"score_{i['key']}" for i in REVIEW_SHEET] + ["opinion", "recommend"])

    def scores(self) -> dict:
        return {i["key"]: self.cleaned_data.get(f"score_{i['key']}") for i in REVIEW_SHEET}


class WithdrawForm(forms.Form):
    reason = forms.CharField(label="回避原因", max_length=300, widget=forms.Textarea(attrs={"rows": 2}))
