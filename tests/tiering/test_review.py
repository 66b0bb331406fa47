"""参数核实: the list of dated parameter values, and officers confirming or correcting them — through the
HTTP client, with the live assessment and new runs reading the decision at once."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from django.utils import timezone

from kechuang.enterprises.models import EnterpriseYear
from kechuang.rules import parameters
from kechuang.tiering import review
from kechuang.tiering.models import ParameterRevision
from kechuang.tiering.selectors import enterprise_assessment
from kechuang.tiering.services import run_now
from tests.tiering.conftest import ON, hnte_ready

pytestmark = pytest.mark.django_db

LIST = "/tiering/parameters/"
STAFF = "hnte.tech_staff_ratio_min"
STAFF_NAME = "科技人员占职工总数比例（hnte.tech_staff_ratio_min，2016-01-01 起）"
PERIOD = "tech_sme.figures_period"


def decide_url(path, effective_from="2016-01-01"):
    return reverse("tiering:parameter-decide", args=[path, effective_from])


def post(client, path, effective_from="2016-01-01", **data):
    return client.post(decide_url(path, effective_from), data)


def paths(response):
    return [row.path for row in response.context["rows"]]


def explanation(enterprise, code):
    for result in enterprise_assessment(enterprise=enterprise, on=timezone.localdate()):
        for item in (*result.conditions, *result.score_items):
            if item.code == code:
                return item
    raise KeyError(code)


def test_the_urls():
    assert reverse("tiering:parameters") == LIST
    assert decide_url(STAFF) == "/tiering/parameters/hnte.tech_staff_ratio_min/2016-01-01/"


# --- who may see and decide ---------------------------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_log_in(client, personas):
    response = client.get(LIST)
    assert response.status_code == 302 and "next=" in response["Location"]


@pytest.mark.parametrize("persona", ["alice", "bob", "leo", "uma", "eve"])
def test_only_officers_see_the_parameters(client, personas, persona):
    client.force_login(getattr(personas, persona))
    assert client.get(LIST).status_code == 403
    assert client.get(decide_url(STAFF)).status_code == 403
    assert post(client, STAFF, action="confirm", note="x").status_code == 403
    assert not ParameterRevision.objects.exists()


def test_a_user_who_may_only_read_the_parameters_cannot_decide(client, personas):
    reader = User.objects.create_user("reader")
    reader.user_permissions.add(
        Permission.objects.get(content_type__app_label="tiering", codename="view_parameterrevision")
    )
    client.force_login(reader)
    assert client.get(LIST).status_code == 200
    page = client.get(decide_url(PERIOD, "2017-05-03"))
    assert page.status_code == 200 and "保存核实结论" not in page.content.decode()
    assert post(client, PERIOD, "2017-05-03", action="confirm", note="x").status_code == 403
    assert not ParameterRevision.objects.exists()


def test_an_unknown_parameter_or_date_is_not_found(client, personas):
    client.force_login(personas.carol)
    assert client.get(decide_url("hnte.nope")).status_code == 404
    assert client.get(decide_url(STAFF, "2016-01-02")).status_code == 404
    assert client.get(decide_url(STAFF, "2016-13-01")).status_code == 404


# --- the list ---------------------------------------------------------------------------------------------------


def test_the_list_shows_the_values_awaiting_confirmation_by_default(client, personas):
    client.force_login(personas.carol)
    response = client.get(LIST)
    assert response.status_code == 200
    shown = paths(response)
    expected = [v.path for v in parameters.default().unconfirmed()]
    assert sorted(shown) == sorted(expected) and PERIOD in shown and STAFF not in shown
    assert response.context["awaiting"] == len(expected)
    page = response.content.decode()
    row = page[page.index(f'data-path="{PERIOD}"') :]
    row = row[: row.index("</tr>\n")]
    assert (
        "规模与评分指标的取数期间" in row
        and "上一会计年度" in row
        and '<span class="tag warn">待核实</span>' in row
    )
    assert "2017-05-03 起" in row and "国科发政〔2017〕115号 第六条(二)、第七条未规定取数期间" in row
    assert f'href="{decide_url(PERIOD, "2017-05-03")}"' in row


def test_all_values_of_one_area_with_ratios_in_percent_money_in_wan_and_bands_as_tables(client, personas):
    client.force_login(personas.carol)
    response = client.get(LIST, {"show": "all", "area": "hnte"})
    shown = paths(response)
    assert STAFF in shown and all(p.startswith("hnte.") for p in shown)
    rows = {row.path: row for row in response.context["rows"]}
    assert rows[STAFF].text == "10%" and rows[STAFF].status_label == "已确认"
    assert rows["hnte.registration_min_days"].text == "365 日"
    bands = rows["hnte.rd_ratio_bands"].table
    assert bands.headers == ["最近一年销售收入不超过", "比例", "说明"]
    assert bands.rows[0][:2] == ["5,000万元", "5%"] and bands.rows[2][:2] == ["不限", "3%"]
    growth = rows["hnte.growth_bands"].table
    assert growth.rows[0][:3] == ["A", "35%", "9–10"]
    page = client.get(LIST, {"show": "all", "area": "tech_sme"})
    money = {row.path: row for row in page.context["rows"]}["tech_sme.sales_max"]
    assert money.text == "2亿元" and money.input_unit == "万元"


def test_an_unknown_filter_falls_back_to_the_default(client, personas):
    client.force_login(personas.carol)
    response = client.get(LIST, {"show": "everything", "area": "nope"})
    assert response.context["show"] == "unconfirmed" and response.context["area"] == ""


# --- deciding -----------------------------------------------------------------------------------------------


def test_confirming_a_value_marks_it_confirmed_everywhere_with_its_basis(client, personas):
    client.force_login(personas.carol)
    assert "待核实" in explanation(personas.ent_a, "tech_sme.T2").text
    response = post(client, PERIOD, "2017-05-03", action="confirm", note="经核对115号原文，取上一会计年度")
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?show=all&area=tech_sme"
    revision = ParameterRevision.objects.get()
    assert (revision.path, revision.effective_from, revision.value) == (PERIOD, date(2017, 5, 3), None)
    assert revision.decided_by == personas.carol and revision.note == "经核对115号原文，取上一会计年度"
    t2 = explanation(personas.ent_a, "tech_sme.T2")
    assert not t2.unconfirmed and "待核实" not in t2.text
    assert "carol" in t2.text and "核实确认：经核对115号原文，取上一会计年度" in t2.text
    listing = client.get(LIST)
    assert PERIOD not in paths(listing)
    page = client.get(LIST, {"show": "all", "area": "tech_sme"}).content.decode()
    row = page[page.index(f'data-path="{PERIOD}"') :]
    assert '<span class="tag ok">已核实确认</span>' in row[: row.index("</tr>\n")]


def test_correcting_a_ratio_typed_in_percent_changes_the_live_assessment_and_new_runs(client, personas):
    ent = hnte_ready(personas.ent_a)
    last = timezone.localdate().year - 1
    for y, figures in ((last, "2025"), (last - 1, "2024"), (last - 2, "2023")):
        EnterpriseYear.objects.filter(enterprise=ent, year=int(figures)).update(year=y)
    EnterpriseYear.objects.filter(enterprise=ent, year=last).update(tech_staff=Decimal("10.5"))
    before = explanation(ent, "hnte.H4")
    assert before.status == "not_met" and "≥10%" in before.threshold  # 10.5 / 120 = 8.75%
    client.force_login(personas.carol)
    response = post(client, STAFF, action="correct", value="8", note="区科委2026年第3次主任办公会纪要")
    assert response.status_code == 302
    assert ParameterRevision.objects.get().value == 0.08
    after = explanation(ent, "hnte.H4")
    assert after.status == "met" and "≥8%" in after.threshold
    assert "核实修正：区科委2026年第3次主任办公会纪要" in after.source and "待核实" not in after.source
    run = run_now(on=ON)
    assert run.parameters.revisions[0]["path"] == STAFF and run.parameters.revisions[0]["value"] == 0.08
    assert parameters.from_texts(run.parameters.texts).version != run.parameters.version


def test_the_success_message_names_the_parameter_and_the_new_value(client, personas):
    client.force_login(personas.carol)
    response = post(client, STAFF, action="correct", value="12.5", note="依据", follow=False)
    page = client.get(response["Location"]).content.decode()
    assert f"已将 {STAFF_NAME} 修正为 12.5%" in page
    assert "已完成的批次仍按其当时的参数" in page


def test_a_later_decision_replaces_the_earlier_one(client, personas):
    client.force_login(personas.carol)
    post(client, STAFF, action="correct", value="8", note="第一次")
    post(client, STAFF, action="confirm", note="第二次：恢复原值")
    revision = ParameterRevision.objects.get()
    assert revision.value is None and revision.note == "第二次：恢复原值"
    assert explanation(personas.ent_a, "hnte.H4").threshold.startswith("≥10%")


def test_money_is_typed_in_wan_and_stored_in_yuan(client, personas):
    client.force_login(personas.carol)
    post(client, "tech_sme.sales_max", "2017-05-03", action="correct", value="15000", note="测试")
    assert ParameterRevision.objects.get().value == 150000000


def test_a_yes_no_rule_and_a_text_are_corrected_in_their_own_shape(client, personas):
    client.force_login(personas.carol)
    post(client, "hnte.growth_nonpositive_value_rule", action="correct", value="false", note="按文件")
    post(client, PERIOD, "2017-05-03", action="correct", value="申请年度的上一会计年度", note="按文件")
    values = dict(ParameterRevision.objects.values_list("path", "value"))
    assert values == {"hnte.growth_nonpositive_value_rule": False, PERIOD: "申请年度的上一会计年度"}


def test_a_band_table_is_corrected_as_yaml(client, personas):
    client.force_login(personas.carol)
    form = client.get(decide_url("hnte.rd_ratio_bands")).context["form"]
    assert form.fields["value"].initial.startswith("- {sales_up_to: 50000000, rate: 0.05")
    text = form.fields["value"].initial.replace("rate: 0.05", "rate: 0.06")
    assert post(client, "hnte.rd_ratio_bands", action="correct", value=text, note="测试").status_code == 302
    assert ParameterRevision.objects.get().value[0] == {
        "sales_up_to": 50000000,
        "rate": 0.06,
        "label": "最近一年销售收入小于5,000万元（含）",
    }


def test_a_band_table_given_as_json_is_accepted(client, personas):
    client.force_login(personas.carol)
    value = '{"own_rd": [1, 6], "transfer_only": [1, 4]}'
    response = post(client, "hnte.ip_acquisition_points", action="correct", value=value, note="测试")
    assert response.status_code == 302
    assert ParameterRevision.objects.get().value == {"own_rd": [1, 6], "transfer_only": [1, 4]}


BAD_VALUES = [
    (STAFF, "2016-01-01", "abc", f"{STAFF_NAME}：“abc”不是数字；请填写百分数（如 10 表示 10%）"),
    (
        STAFF,
        "2016-01-01",
        "150",
        f"{STAFF_NAME}：比例须为 0 到 100 之间的百分数（如 10 表示 10%），而不是 150%",
    ),
    (STAFF, "2016-01-01", "", f"{STAFF_NAME}：请填写修正后的取值"),
    (
        "hnte.registration_min_days",
        "2016-01-01",
        "365.5",
        "注册成立时间（hnte.registration_min_days，2016-01-01 起）：须为整数（单位 日），而不是 365.5",
    ),
    (
        "tech_sme.sales_max",
        "2017-05-03",
        "-1",
        "年销售收入（tech_sme.sales_max，2017-05-03 起）：取值不能为负数，须为不小于 0 的数（单位 万元），而不是 -1",
    ),
    (
        "hnte.growth_nonpositive_value_rule",
        "2016-01-01",
        "maybe",
        "净资产或销售收入为负值时按0计算（hnte.growth_nonpositive_value_rule，2016-01-01 起）：请选择“是”或“否”",
    ),
    (
        "hnte.rd_ratio_bands",
        "2016-01-01",
        "- {sales_up_to: 1, rate: [",
        "近三个会计年度研发费用占同期销售收入比例（hnte.rd_ratio_bands，2016-01-01 起）：不是有效的 YAML 或 JSON（",
    ),
    (
        "hnte.rd_ratio_bands",
        "2016-01-01",
        "- {sales_up_to: 1, label: x}",
        "近三个会计年度研发费用占同期销售收入比例（hnte.rd_ratio_bands，2016-01-01 起）：第1项缺少字段 rate",
    ),
    (
        "hnte.rd_ratio_bands",
        "2016-01-01",
        "- {sales_up_to: null, rate: 0.03, label: x, bonus: 1}",
        "近三个会计年度研发费用占同期销售收入比例（hnte.rd_ratio_bands，2016-01-01 起）：第1项有未知字段 bonus"
        "（可用字段：sales_up_to、rate、label）",
    ),
    (
        "hnte.rd_ratio_bands",
        "2016-01-01",
        "- {sales_up_to: null, rate: 三成, label: x}",
        "近三个会计年度研发费用占同期销售收入比例（hnte.rd_ratio_bands，2016-01-01 起）：第1项的 rate 须为数，而不是 '三成'",
    ),
    (
        "hnte.rd_ratio_bands",
        "2016-01-01",
        "- {sales_up_to: null, rate: 3, label: x}",
        "近三个会计年度研发费用占同期销售收入比例（hnte.rd_ratio_bands，2016-01-01 起）：第1项的 rate 是比例，"
        "须为 0 到 1 之间的小数（如 0.05 表示 5%），而不是 3",
    ),
    (
        "hnte.conversion_bands",
        "2016-01-01",
        "- {band: A, at_least: -5, points: [25, 30], label: x}\n- {band: F, otherwise: true, points: [0, 0], label: y}",
        "科技成果转化能力（近3年科技成果转化年平均数）（hnte.conversion_bands，2016-01-01 起）：第1项的 at_least 须为不小于 0 的数，而不是 -5",
    ),
    (
        "hnte.rd_ratio_bands",
        "2016-01-01",
        "{rate: 0.03}",
        "近三个会计年度研发费用占同期销售收入比例（hnte.rd_ratio_bands，2016-01-01 起）：须为非空的列表（每档一项），与原取值的形式相同",
    ),
    (
        "hnte.ip_acquisition_points",
        "2016-01-01",
        "{own_rd: [1, 6]}",
        "知识产权获得方式（hnte.ip_acquisition_points，2016-01-01 起）：须有且只有这些键：own_rd、transfer_only（现为 own_rd）",
    ),
    (
        "hnte.ip_standards_bonus",
        "2016-01-01",
        "[1, 2, 3]",
        "参与编制国家标准、行业标准、检测方法、技术规范（加分项）（hnte.ip_standards_bonus，2016-01-01 起）："
        "须为 2 个数的列表（如 [1, 2]），而不是 [1, 2, 3]",
    ),
    (
        # A band table whose first band is not the Class I band: the engine cannot read it.
        "hnte.ip_count_bands",
        "2016-01-01",
        "- {band: B, class_ii_at_least: 5, points: [5, 6], label: x}\n- {band: E, otherwise: true, points: [0, 0], label: y}",
        "知识产权数量（hnte.ip_count_bands，2016-01-01 起）：修正后的取值无法用于评估（KeyError: 'class_i_at_least'），未保存",
    ),
]


@pytest.mark.parametrize(("path", "effective_from", "value", "message"), BAD_VALUES)
def test_a_bad_correction_is_refused_with_a_message_naming_the_parameter_and_value(
    client, personas, path, effective_from, value, message
):
    client.force_login(personas.carol)
    response = post(client, path, effective_from, action="correct", value=value, note="测试")
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(message in e for e in errors.get("value", [])), errors
    assert message.split("（")[0] in response.content.decode()
    assert not ParameterRevision.objects.exists()


def test_a_decision_needs_its_basis(client, personas):
    client.force_login(personas.carol)
    response = post(client, STAFF, action="confirm", note="  ")
    assert response.context["form"].errors["note"] == [review.NOTE_REQUIRED]
    assert not ParameterRevision.objects.exists()


def test_the_service_refuses_a_revision_of_a_value_that_does_not_exist(personas):
    with pytest.raises(review.RevisionError, match="没有自 2016-01-02 起生效的取值"):
        review.revision_decide(
            user=personas.carol, path=STAFF, effective_from=date(2016, 1, 2), value=0.08, note="x"
        )
    with pytest.raises(review.RevisionError, match="比例须为 0 到 1 之间的数"):
        review.revision_decide(
            user=personas.carol, path=STAFF, effective_from=date(2016, 1, 1), value=1.5, note="x"
        )
    assert not ParameterRevision.objects.exists()
