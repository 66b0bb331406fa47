"""Forms of the voucher pages. They read the input; the services (services.py, redemptions.py, settlement.py,
abuse.py) decide, and their ValidationErrors are put back on the fields they name (add_errors)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from kechuang.core.widgets import IsoDateInput
from kechuang.vouchers.models import Provider, ProviderKind, ProviderService, ProviderState, VoucherScheme

MONEY = {"max_digits": 16, "decimal_places": 2}


def add_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's ValidationError onto the form: under the field it names, else at the top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for key, messages_ in error.message_dict.items():
        form.add_error(key if key in form.fields else None, messages_)


class SchemeForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    name = forms.CharField(label="名称", max_length=100)
    budget_total = forms.DecimalField(label="年度总额度（元）", **MONEY)
    cap_per_enterprise = forms.DecimalField(label="每家企业上限（元）", **MONEY)
    share_pct = forms.DecimalField(
        label="抵扣比例（%）", max_digits=5, decimal_places=2, help_text="创新券最多支付服务发票金额的比例"
    )
    opens_on = forms.DateField(label="受理开始日期", widget=IsoDateInput())
    closes_on = forms.DateField(label="受理截止日期", widget=IsoDateInput(), help_text="含当日")
    valid_until = forms.DateField(label="券有效期至", widget=IsoDateInput())
    source = forms.CharField(label="依据", max_length=300, required=False)


class ProviderForm(forms.Form):
    name = forms.CharField(label="机构名称", max_length=200)
    uscc = forms.CharField(label="统一社会信用代码", max_length=30)
    legal_representative = forms.CharField(label="法定代表人", max_length=50)
    address = forms.CharField(label="地址", max_length=200)
    kind = forms.ChoiceField(label="服务类别", choices=ProviderKind.choices)
    contact_person = forms.CharField(label="联系人", max_length=40, required=False)
    contact_phone = forms.CharField(label="联系电话", max_length=30, required=False)
    description = forms.CharField(label="机构简介", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class ServiceForm(forms.Form):
    name = forms.CharField(label="服务名称", max_length=200)
    category = forms.ChoiceField(label="类别", choices=ProviderKind.choices)
    unit_price = forms.DecimalField(label="单价（元）", **MONEY)
    unit = forms.CharField(label="计价单位", max_length=20)
    description = forms.CharField(label="服务内容", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label="理由", widget=forms.Textarea(attrs={"rows": 2}))


class ApplicationForm(forms.Form):
    scheme = forms.ModelChoiceField(label="年度方案", queryset=VoucherScheme.objects.none(), empty_label=None)
    requested_amount = forms.DecimalField(label="申请额度（元）", **MONEY)
    purpose = forms.CharField(
        label="用途",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="拟购买的服务及其用于哪项研发活动",
    )
    planned_services = forms.ModelMultipleChoiceField(
        label="拟购服务（可多选）",
        queryset=ProviderService.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )

    def __init__(self, *args, schemes=None, **kwargs):
        super().__init__(*args, **kwargs)
        if schemes is not None:
            self.fields["scheme"].queryset = schemes
        self.fields["planned_services"].queryset = (
            ProviderService.objects.filter(active=True, provider__state=ProviderState.LISTED)
            .select_related("provider")
            .order_by("provider__name", "name")
        )
        self.fields["planned_services"].label_from_instance = lambda s: (
            f"{s.provider.name} · {s.name}（{s.unit_price:,.2f} 元/{s.unit}）"
        )


class ApproveForm(forms.Form):
    granted_amount = forms.DecimalField(label="核定额度（元）", **MONEY)
    note = forms.CharField(label="审核意见", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RedemptionForm(forms.Form):
    provider = forms.ModelChoiceField(label="服务机构", queryset=Provider.objects.none())
    voucher_number = forms.CharField(label="创新券券号", max_length=40)
    enterprise_uscc = forms.CharField(label="持券企业统一社会信用代码", max_length=30)
    service = forms.ModelChoiceField(label="服务项目", queryset=ProviderService.objects.none())
    contract_no = forms.CharField(label="服务合同编号", max_length=60)
    contract_amount = forms.DecimalField(label="合同金额（元）", **MONEY)
    invoice_no = forms.CharField(label="发票号码", max_length=60)
    invoice_date = forms.DateField(label="开票日期", widget=IsoDateInput())
    invoice_amount = forms.DecimalField(label="发票金额（元）", **MONEY)
    amount = forms.DecimalField(
        label="本次抵扣（元）",
        required=False,
        **MONEY,
        help_text="留空：按抵扣比例计算，且不超过创新券余额",
    )

    def __init__(self, *args, providers=None, provider=None, **kwargs):
        super().__init__(*args, **kwargs)
        if provider is not None:
            # A provider's own user: the provider is fixed, its services offered.
            del self.fields["provider"]
            self.fields["service"].queryset = provider.services.filter(active=True).order_by("name")
            self.fields["service"].label_from_instance = lambda s: (
                f"{s.name}（{s.unit_price:,.2f} 元/{s.unit}）"
            )
        else:
            self.fields["provider"].queryset = providers if providers is not None else Provider.objects.all()
            self.fields["service"].queryset = (
                ProviderService.objects.filter(active=True)
                .select_related("provider")
                .order_by("provider__name", "name")
            )
            self.fields["service"].label_from_instance = lambda s: f"{s.provider.name} · {s.name}"
        self.order_fields(["provider", "voucher_number", "enterprise_uscc", "service"])


class FlagResolveForm(forms.Form):
    decision = forms.ChoiceField(
        label="处理结果", choices=[("cleared", "核实无误"), ("upheld", "确认违规（不予兑付 / 不予批准）")]
    )
    note = forms.CharField(label="核实情况", widget=forms.Textarea(attrs={"rows": 2}))


class SettlementForm(forms.Form):
    provider = forms.ModelChoiceField(label="服务机构", queryset=Provider.objects.order_by("name"))
    period_start = forms.DateField(label="核验期间起", widget=IsoDateInput())
    period_end = forms.DateField(label="核验期间止", widget=IsoDateInput())
    paid_on = forms.DateField(label="支付日期", widget=IsoDateInput(), required=False)
    voucher_no = forms.CharField(label="会计凭证号", max_length=40, required=False)
