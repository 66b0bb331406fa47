"""Computed indicators by date, the progress rule at its edges, observations and their errors, target parts
and the alerts to their owners."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kechuang.enterprises.models import Qualification
from kechuang.indicators import selectors, services
from kechuang.indicators.computed import COMPUTED
from kechuang.indicators.models import Indicator, Observation, Target, TargetAlert
from kechuang.indicators.selectors import ACHIEVED, AT_RISK, NO_DATA, OFF_TRACK, ON_TRACK
from tests.tiering.conftest import enterprise

TODAY = date(2026, 6, 30)


def indicator(code="patents", **fields) -> Indicator:
    fields = {
        "name": "发明专利授权量",
        "unit": "件",
        "data_source": "区知识产权局",
        "value_min": 0,
        "value_max": 100000,
    } | fields
    return Indicator.objects.create(code=code, **fields)


def target(ind, year=2026, value=200, baseline_year=2023, baseline_value=100, **fields) -> Target:
    return Target.objects.create(
        indicator=ind,
        year=year,
        value=Decimal(value),
        baseline_year=baseline_year,
        baseline_value=Decimal(baseline_value),
        **fields,
    )


def observe(ind, year, value, **fields):
    return Observation.objects.create(indicator=ind, year=year, value=Decimal(str(value)), **fields)


# --- computed: 有效期内高新技术企业数 by date -------------------------------------------------------------------


@pytest.mark.django_db
def test_hnte_count_follows_certificates_and_their_expiry(personas):
    hnte = COMPUTED["hnte_valid"]
    ent = enterprise(1, park=personas.park_a)
    assert hnte.value(TODAY) == 0
    cert = Qualification.objects.create(enterprise=ent, kind="hnte", issue_date=date(2023, 11, 20))
    assert cert.expiry_date == date(2026, 11, 19)  # three years, the last valid day
    assert hnte.value(date(2023, 11, 19)) == 0  # the day before issue
    assert hnte.value(date(2023, 11, 20)) == 1  # issue day
    assert hnte.value(date(2026, 11, 19)) == 1  # last valid day
    assert hnte.value(date(2026, 11, 20)) == 0  # expired
    # A second enterprise's certificate added: the count moves on the dates it covers, and only those.
    other = enterprise(2, park=personas.park_b)
    Qualification.objects.create(enterprise=other, kind="hnte", issue_date=date(2025, 12, 1))
    assert hnte.value(TODAY) == 2
    assert hnte.value(date(2025, 11, 30)) == 1
    # A renewed certificate of the same enterprise is one enterprise, not two.
    Qualification.objects.create(enterprise=ent, kind="hnte", issue_date=date(2026, 11, 1))
    assert hnte.value(date(2026, 11, 10)) == 2
    # Several dates in one query give the same numbers as one at a time.
    dates = [date(2023, 11, 19), date(2023, 11, 20), TODAY, date(2026, 11, 20), date(2029, 11, 1)]
    assert hnte.values(dates) == {d: hnte.value(d) for d in dates}
    # By park (a zone counts its sub-parks).
    assert hnte.value(TODAY, [personas.park_a.pk]) == 1
    assert hnte.value(TODAY, personas.zone.with_descendants()) == 2
    assert hnte.values([TODAY], [personas.park_b.pk]) == {TODAY: 1}
    # The drill-down lists exactly the enterprises counted.
    assert set(hnte.enterprises(TODAY)) == {ent, other}


@pytest.mark.django_db
def test_srdi_counts_municipal_and_national_only(personas):
    srdi = COMPUTED["srdi_municipal_up"]
    a, b, c = (enterprise(n) for n in (1, 2, 3))
    Qualification.objects.create(
        enterprise=a, kind="specialised_sme", level="municipal", issue_date=date(2025, 1, 1)
    )
    Qualification.objects.create(
        enterprise=b, kind="little_giant", level="national", issue_date=date(2025, 1, 1)
    )
    Qualification.objects.create(
        enterprise=c, kind="specialised_sme", level="district", issue_date=date(2025, 1, 1)
    )
    assert srdi.value(TODAY) == 2


# --- progress: the stated rule at its edges -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("latest_2025", "status"),
    [
        (200, ACHIEVED),  # the target itself
        # baseline 100 (2023), target 200 (2026): 2 years of growth at rate r, one more year to go.
        # Forecast = v·(v/100)^(1/2): equals 200 at v = 100·2^(2/3) = 158.74…
        (159, ON_TRACK),
        (158.7, AT_RISK),  # forecast 199.9: short of 200, more than 90% of the change
        # 90% of the change is 190: v·(v/100)^(1/2) = 190 at v = 153.4…
        (153.5, AT_RISK),
        (153.3, OFF_TRACK),
    ],
)
def test_status_edges_of_a_compound_level(latest_2025, status):
    ind = indicator()
    t = target(ind)
    observe(ind, 2024, 120)
    observe(ind, 2025, latest_2025)
    state = selectors.progress(t, TODAY)
    assert state.status == status, state.reason
    assert state.latest.value == latest_2025 and state.latest.year == 2025
    assert state.share == pytest.approx((latest_2025 - 100) / 100)


@pytest.mark.django_db
def test_compound_rates_are_those_stated():
    ind = indicator()
    t = target(ind)
    observe(ind, 2025, 144)
    state = selectors.progress(t, TODAY)
    assert state.compound
    assert state.achieved_rate == pytest.approx(0.2)  # 100 → 144 in two years
    assert state.needed_rate == pytest.approx(200 / 144 - 1)  # one year left
    assert state.forecast == pytest.approx(144 * 1.2)
    assert state.status == OFF_TRACK  # 172.8 is 72.8% of the change


@pytest.mark.django_db
def test_ratio_is_linear_and_exactly_on_target_is_on_track():
    ind = indicator("rd_ratio", name="研发经费支出占营收的比重", unit="%", value_max=100)
    t = target(ind, value="2.9", baseline_value="2")
    observe(ind, 2025, "2.6")  # +0.3 a year: the 2026 forecast is the target exactly
    state = selectors.progress(t, TODAY)
    assert not state.compound
    assert state.achieved_rate == pytest.approx(0.3)
    assert state.forecast == pytest.approx(2.9)
    assert state.status == ON_TRACK, state.reason
    Observation.objects.filter(indicator=ind).update(value=Decimal("2.55"))
    assert selectors.progress(t, TODAY).status == AT_RISK  # forecast 2.825: 91.7% of the change
    Observation.objects.filter(indicator=ind).update(value=Decimal("2.5"))
    assert selectors.progress(t, TODAY).status == OFF_TRACK  # forecast 2.75: 83.3%


@pytest.mark.django_db
def test_decrease_is_mirrored_and_a_passed_target_year_is_off_track():
    ind = indicator("energy", name="单位增加值能耗", unit="吨标煤/万元", direction="decrease")
    t = target(ind, value=80, baseline_value=100)
    observe(ind, 2025, 86)
    assert selectors.progress(t, TODAY).status == ON_TRACK  # 100 → 86 in 2 years, 2026 forecast ≈ 79.8
    observe(ind, 2026, 81)
    assert selectors.progress(t, date(2027, 1, 1)).status == OFF_TRACK
    Observation.objects.filter(indicator=ind, year=2026).update(value=80)
    assert selectors.progress(t, date(2027, 1, 1)).status == ACHIEVED


@pytest.mark.django_db
def test_no_value_after_the_baseline_is_no_data():
    ind = indicator()
    t = target(ind)
    observe(ind, 2023, 100)
    state = selectors.progress(t, TODAY)
    assert state.status == NO_DATA and "暂无数据" in state.reason


@pytest.mark.django_db
def test_computed_indicator_progress_uses_the_registry_today(personas):
    ind = indicator("hnte", name="有效期内高新技术企业数", unit="家", computed="hnte_valid")
    t = target(ind, value=2, baseline_value=1, baseline_year=2024)
    ent = enterprise(1)
    Qualification.objects.create(enterprise=ent, kind="hnte", issue_date=date(2024, 12, 1))
    assert selectors.progress(t, TODAY).latest.value == 1
    Qualification.objects.create(enterprise=enterprise(2), kind="hnte", issue_date=date(2026, 6, 1))
    state = selectors.progress(t, TODAY)
    assert state.latest.value == 2 and state.latest.source == "registry" and state.latest.on == TODAY
    assert state.status == ACHIEVED


# --- observations: errors name the field and the value; nothing saved ------------------------------------------


@pytest.mark.django_db
def test_observation_errors(personas):
    ind = indicator("rd", name="研发投入强度", unit="%", value_max=100)
    cases = [
        (dict(year=2025, value=150), "value", "超出“研发投入强度”（单位：%）的合理范围 0–100"),
        (dict(year=2025, value="abc"), "value", "“abc”不是数字"),
        (dict(year=2025, value=None), "value", "必须填写数值"),
        (dict(year=2025, value=2, sub_period=3), "sub_period", "不符合该指标的统计频度（年度）"),
        (dict(year=2027, value=2), "year", "不能录入将来的期间"),
        (dict(year="二〇二五", value=2), "year", "不是整数"),
    ]
    for kwargs, field, message in cases:
        with pytest.raises(ValidationError) as caught:
            services.record_observation(ind, today=TODAY, **kwargs)
        assert message in caught.value.message_dict[field][0], (kwargs, caught.value.message_dict)
    assert not Observation.objects.exists()
    services.record_observation(ind, year=2025, value="2.5", today=TODAY, user=personas.carol)
    with pytest.raises(ValidationError) as caught:
        services.record_observation(ind, year=2025, value="2.6", today=TODAY)
    assert "全区 2025年 的“研发投入强度”已录入（2.5%）" in caught.value.message_dict["year"][0]
    # The same year for a park is another observation.
    services.record_observation(ind, year=2025, value="3.1", park=personas.park_a, today=TODAY)
    assert Observation.objects.count() == 2


@pytest.mark.django_db
def test_quarterly_periods_and_computed_indicators_refused(personas):
    quarterly = indicator("q", frequency="quarter")
    services.record_observation(quarterly, year=2026, sub_period=2, value=10, today=TODAY)
    with pytest.raises(ValidationError, match="季度须为 1–4"):
        services.record_observation(quarterly, year=2026, sub_period=5, value=10, today=TODAY)
    computed = indicator("hnte", computed="hnte_valid")
    with pytest.raises(ValidationError, match="由企业库自动计算"):
        services.record_observation(computed, year=2025, value=10, today=TODAY)


@pytest.mark.django_db
def test_correction_keeps_history_with_reason(personas):
    ind = indicator()
    obs = services.record_observation(ind, year=2025, value=120, today=TODAY, user=personas.carol)
    with pytest.raises(ValidationError, match="更正须说明原因"):
        services.correct_observation(obs, value=121, note=" ", today=TODAY)
    services.correct_observation(
        obs, value=125, note="区知识产权局更正口径", user=personas.carol, today=TODAY
    )
    history = list(obs.history.order_by("history_date"))
    assert [h.value for h in history] == [Decimal("120"), Decimal("125")]
    assert (
        history[-1].history_change_reason == "区知识产权局更正口径"
        and history[-1].history_user == personas.carol
    )


@pytest.mark.django_db
def test_import_is_all_or_nothing_with_row_numbers(personas):
    indicator()
    indicator("rd", name="研发投入强度", unit="%", value_max=100)
    rows = [
        ("patents", 2024, None, None, 120, "区知识产权局", ""),
        ("rd", 2024, None, "临港松江科技园", 3.5, "", ""),
        ("rd", 2024, 0, "临港松江科技园", 3.6, "", ""),  # the same period and park again
        ("nope", 2024, None, None, 1, "", ""),
        ("rd", 2024, None, "不存在园", 1, "", ""),
        ("rd", 2025, None, None, 350, "", ""),  # 350%: a unit slip
        (None, None, None, None, None, None, None),  # blank rows are skipped
    ]
    with pytest.raises(services.ImportRejected) as caught:
        services.import_observations(rows, today=TODAY)
    found = [(e.row, e.column) for e in caught.value.errors]
    assert found == [(4, "年份"), (5, "指标代码"), (6, "园区"), (7, "数值")]
    assert "与第 3 行重复" in str(caught.value.errors[0])
    assert not Observation.objects.exists()
    assert services.import_observations(rows[:2], today=TODAY, source_name="2024年报.xlsx") == 2
    assert Observation.objects.get(indicator__code="patents").source == "区知识产权局"
    assert (
        Observation.objects.get(indicator__code="rd").history.first().history_change_reason
        == "批量导入：2024年报.xlsx"
    )


# --- target parts and alerts -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_target_part_errors(personas):
    ind = indicator()
    whole = target(ind)
    with pytest.raises(ValidationError) as caught:
        services.add_target_part(whole, value=50, park=personas.park_a)
    assert caught.value.message_dict["year"] == ["目标须填写目标年"]
    assert caught.value.message_dict["baseline_value"] == ["按园区分解须填写该园区的基期值"]
    with pytest.raises(ValidationError, match="须在基期 2023 之后、总目标年 2026 及之前"):
        services.add_target_part(whole, value=50, year=2027, park=personas.park_a, baseline_value=30)
    with pytest.raises(ValidationError, match="须指定园区、责任单位，或早于总目标年的阶段年份"):
        services.add_target_part(whole, value=50, year=2026)
    milestone = services.add_target_part(whole, value=160, year=2025)  # a period milestone
    assert milestone.baseline_value == Decimal(100) and milestone.parent == whole
    assert Target.objects.filter(parent=whole).count() == 1


@pytest.mark.django_db
def test_owner_alerted_when_a_part_slips_once_per_change(personas):
    ind = indicator()
    whole = target(ind)
    part = services.add_target_part(
        whole, value=100, year=2026, park=personas.park_a, baseline_value=50, owner=personas.carol
    )
    observe(ind, 2024, 60, park=personas.park_a)
    services.record_observation(
        ind, year=2025, value=90, park=personas.park_a, today=TODAY
    )  # 50 → 90: on track
    assert not TargetAlert.objects.exists()
    obs = Observation.objects.get(year=2025, park=personas.park_a)
    services.correct_observation(obs, value=55, note="更正", today=TODAY)  # now off track
    alert = TargetAlert.objects.get()
    assert alert.owner == personas.carol and alert.target == part and alert.status == OFF_TRACK
    assert "滞后" in alert.message and "临港松江科技园" in alert.message
    services.refresh_alerts(TODAY)
    assert TargetAlert.objects.count() == 1  # not again while nothing changes
    services.correct_observation(obs, value=95, note="再更正", today=TODAY)
    services.correct_observation(obs, value=56, note="又下滑", today=TODAY)
    assert list(TargetAlert.objects.order_by("pk").values_list("status", flat=True)) == [
        OFF_TRACK,
        ON_TRACK,
        OFF_TRACK,
    ]
    # The district figure of the same indicator is not the park's: the whole target has no owner.
    assert selectors.progress(whole, TODAY).status == NO_DATA


@pytest.mark.django_db
def test_series_prefers_observation_over_document(personas):
    from kechuang.indicators.models import DocumentedFigure

    ind = indicator()
    DocumentedFigure.objects.create(
        indicator=ind,
        kind="history",
        year=2024,
        text="110",
        value=110,
        document="002",
        place="表1",
        quote="110",
    )
    DocumentedFigure.objects.create(
        indicator=ind,
        kind="history",
        year=2023,
        text="100",
        value=100,
        document="002",
        place="表1",
        quote="100",
    )
    observe(ind, 2024, 111, source="区知识产权局")
    points = selectors.series(ind, TODAY)
    assert [(p.year, p.value, p.source) for p in points] == [
        (2023, 100, "document"),
        (2024, 111, "observation"),
    ]
    assert points[1].time == 2024 and selectors.Point(2026, 1, "registry", "", TODAY).time == pytest.approx(
        2025 + 181 / 365
    )


@pytest.mark.django_db
def test_daily_command_alerts_when_the_registry_moves(personas):
    from io import StringIO

    from django.core.management import call_command

    ind = indicator("hnte", name="有效期内高新技术企业数", unit="家", computed="hnte_valid")
    whole = target(ind, value=2, baseline_value=1, baseline_year=2024)
    services.add_target_part(
        whole, value=2, year=2026, park=personas.park_a, baseline_value=1, owner=personas.carol
    )
    ent = enterprise(1, park=personas.park_a)
    Qualification.objects.create(
        enterprise=ent, kind="hnte", issue_date=date(2023, 1, 1)
    )  # expired 2025-12-31
    out = StringIO()
    call_command("target_alerts", stdout=out)
    assert "carol：" in out.getvalue() and "共发出 1 条目标预警" in out.getvalue()
    assert TargetAlert.objects.get().status == OFF_TRACK  # no enterprise left in the park on today


@pytest.mark.django_db
def test_registry_fills_years_the_documents_do_not_give(personas):
    from kechuang.indicators.models import DocumentedFigure

    ind = indicator("hnte", name="有效期内高新技术企业数", unit="家", computed="hnte_valid")
    DocumentedFigure.objects.create(
        indicator=ind, kind="history", year=2024, text="1755", value=1755, document="002", place="表三", quote="1755"
    )
    Qualification.objects.create(enterprise=enterprise(1), kind="hnte", issue_date=date(2025, 3, 1))
    points = {p.year: (p.value, p.source) for p in selectors.series(ind, TODAY, since=2023)}
    # 2024: the document's official figure, not the registry's 0 (it holds only a recent certificate);
    # 2023 and 2025: the registry on 31 December; 2026: the registry today.
    assert points == {2023: (0, "registry"), 2024: (1755, "document"), 2025: (1, "registry"), 2026: (1, "registry")}


@pytest.mark.django_db
def test_remembered_counts_follow_every_registry_change(personas):
    from kechuang.indicators.models import Indicator as Ind

    hnte = COMPUTED["hnte_valid"]
    ind = Ind.objects.create(code="hnte_t", name="高企", unit="家", data_source="区科委", computed="hnte_valid")
    ent = enterprise(1, park=personas.park_a)
    cert = Qualification.objects.create(enterprise=ent, kind="hnte", issue_date=date(2025, 1, 1))
    assert hnte.values([TODAY]) == {TODAY: 1}
    assert selectors.breakdown(ind, TODAY).by_park[0].total >= 1
    # An edit (expiry moved before today), a park move, a deletion: each seen at once.
    cert.expiry_date = date(2026, 1, 1)
    cert.save()
    assert hnte.values([TODAY]) == {TODAY: 0}
    cert.expiry_date = None
    cert.save()
    assert hnte.values([TODAY]) == {TODAY: 1}
    ent.park = personas.park_b
    ent.save()
    by_park = {row.park: row.own for row in selectors.breakdown(ind, TODAY).by_park}
    assert by_park[personas.park_b] == 1 and by_park[personas.park_a] == 0
    cert.delete()
    assert hnte.values([TODAY]) == {TODAY: 0} and selectors.breakdown(ind, TODAY).total == 0
