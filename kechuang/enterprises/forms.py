from decimal import Decimal

from django import forms

from kechuang.core import uscc
from kechuang.core.money import wan_to_yuan, yuan_to_wan
from kechuang.core.widgets import IsoDateInput
from kechuang.enterprises.figures import FIGURES
from kechuang.enterprises.models import Enterprise, EnterpriseYear, IPAsset, Qualification

DATE_WIDGET = IsoDateInput()
# Fields only the commission sets: identity and the park an enterprise belongs to.
OFFICER_ONLY_FIELDS = ("uscc", "park", "is_demo")


class EnterpriseForm(forms.ModelForm):
    class Meta:
        model = Enterprise
        fields = [
            "uscc",
            "name",
            "short_name",
            "registration_date",
            "park",
            "industry",
            "hitech_field",
            "main_business",
            "address",
            "legal_representative",
            "contact_phone",
            "status",
            "is_listed",
        ]
        widgets = {"registration_date": DATE_WIDGET}

    def __init__(self, *args, officer: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not officer:
            for name in OFFICER_ONLY_FIELDS:
                self.fields.pop(name, None)

    def clean_uscc(self):
        return uscc.normalise(self.cleaned_data["uscc"])


class EnterpriseChildForm(forms.ModelForm):
    """A form for a row that belongs to an enterprise: the enterprise is set by the view, and the
    uniqueness rules that involve it (one row per year, per certificate) are still checked."""

    def __init__(self, *args, enterprise: Enterprise, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.enterprise = enterprise

    def _get_validation_exclusions(self):
        exclude = super()._get_validation_exclusions()
        exclude.discard("enterprise")
        return exclude


class YearForm(EnterpriseChildForm):
    """Money is typed in 万元, as the documents and users do, and stored in yuan."""

    class Meta:
        model = EnterpriseYear
        fields = ["year"] + [f.name for f in FIGURES]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for figure in FIGURES:
            field = self.fields[figure.name]
            field.label = figure.header
            field.help_text = figure.definition
            if figure.is_money:
                self.fields[figure.name] = forms.DecimalField(
                    label=figure.header,
                    required=False,
                    max_digits=16,
                    decimal_places=6,
                    help_text=figure.definition,
                )
                if self.instance.pk:
                    self.initial[figure.name] = yuan_to_wan(getattr(self.instance, figure.name), places=6)

    def clean(self):
        cleaned = super().clean()
        for figure in FIGURES:
            if figure.is_money and cleaned.get(figure.name) is not None:
                cleaned[figure.name] = wan_to_yuan(Decimal(cleaned[figure.name]))
        return cleaned


class IPAssetForm(EnterpriseChildForm):
    class Meta:
        model = IPAsset
        fields = [
            "ip_type",
            "number",
            "title",
            "application_date",
            "grant_date",
            "acquisition",
            "status",
            "hnte_used_year",
        ]
        widgets = {"application_date": DATE_WIDGET, "grant_date": DATE_WIDGET}


class QualificationForm(EnterpriseChildForm):
    class Meta:
        model = Qualification
        fields = ["kind", "level", "certificate_no", "issuer", "issue_date", "expiry_date"]
        widgets = {"issue_date": DATE_WIDGET, "expiry_date": DATE_WIDGET}
