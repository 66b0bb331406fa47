"""Demo observations: from the last documented year to last year, towards the target, never over an
officer's value, replaced on reload, inside each indicator's plausible range."""

from datetime import date
from decimal import Decimal

import pytest

from kechuang.indicators.demo import DEMO_SOURCE, load_demo_observations
from kechuang.indicators.models import DocumentedFigure, Indicator, Observation

TODAY = date(2026, 6, 30)


def figure(ind, kind, year, value):
    return DocumentedFigure.objects.create(
        indicator=ind,
        kind=kind,
        year=year,
        text=str(value),
        value=value,
        document="004",
        place="附件1",
        quote=str(value),
    )


@pytest.mark.django_db
def test_demo_values_run_from_the_last_figure_towards_the_target():
    Observation.objects.all().delete()
    Indicator.objects.exclude(code__startswith="t_").update(
        computed="hnte_valid"
    )  # leave the catalogue's out
    ind = Indicator.objects.create(
        code="t_pct", name="比重", unit="%", data_source="年报", value_min=0, value_max=100
    )
    figure(ind, "baseline", 2023, Decimal("26"))
    figure(ind, "target", 2026, Decimal("33"))
    kept = Observation.objects.create(indicator=ind, year=2024, value=Decimal("27.5"), source="火炬统计")
    assert load_demo_observations(TODAY) == 1  # 2025 only: 2024 is the officer's, 2026 has not ended
    demo = Observation.objects.get(source=DEMO_SOURCE)
    assert demo.year == 2025 and Decimal("26") < demo.value < Decimal("33") * Decimal("1.02")
    assert load_demo_observations(TODAY) == 1 and Observation.objects.filter(source=DEMO_SOURCE).count() == 1
    assert Observation.objects.get(pk=kept.pk).value == Decimal("27.5")
    # A ratio near its ceiling stays inside the plausible range.
    capped = Indicator.objects.create(
        code="t_cap", name="占比", unit="%", data_source="年报", value_min=0, value_max=100
    )
    figure(capped, "baseline", 2023, Decimal("99"))
    figure(capped, "target", 2026, Decimal("100"))
    load_demo_observations(TODAY)
    assert all(o.value <= 100 for o in Observation.objects.filter(indicator=capped))
    # Counts of whole things are whole.
    units = Indicator.objects.create(
        code="t_units", name="孵化器", unit="家", data_source="区科委", value_min=0, value_max=100
    )
    figure(units, "baseline", 2023, Decimal("0"))
    figure(units, "target", 2026, Decimal("2"))
    load_demo_observations(TODAY)
    values = [o.value for o in Observation.objects.filter(indicator=units)]
    assert len(values) == 2 and all(v == v.to_integral() for v in values)  # 2024 and 2025
    # Computed indicators never get demo values.
    assert not Observation.objects.filter(indicator__computed="hnte_valid").exists()
