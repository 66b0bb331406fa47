"""Calls: the form definition, score sheet and eligibility validated with Chinese messages naming the section and
field; eligibility three-valued; open and close through the workflow; the officer's pages and the call builder."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from kechuang.enterprises.models import Qualification
from kechuang.projects import calls, eligibility
from kechuang.projects.models import Call
from tests.projects import call_fixtures
from tests.projects.call_fixtures import FORM, SCORE_SHEET, call_values, started

# The fixture of call_fixtures.py, made available to the tests of this module.
cf = call_fixtures.cf

pytestmark = pytest.mark.django_db


def _section(**overrides):
    section = {
        "key": "basic",
        "title": "项目基本信息",
        "fields": [{"key": "name", "label": "名称", "type": "text"}],
    }
    section.update(overrides)
    return section


# —— form definition ——


def test_the_example_form_is_valid():
    assert calls.form_definition_errors(FORM) == []
    assert calls.score_sheet_errors(SCORE_SHEET) == []


def test_repeated_section_keys_are_named():
    other = [{"key": "aim", "label": "目标", "type": "text"}]
    problems = calls.form_definition_errors([_section(), _section(title="技术内容", fields=other)])
    assert problems == ["第 2 部分“技术内容”的代码“basic”与前面的部分重复"]


def test_repeated_field_keys_across_sections_are_named():
    second = _section(key="tech", title="技术内容")
    problems = calls.form_definition_errors([_section(), second])
    assert problems == [
        "第 2 部分“技术内容”第 1 个字段“名称”（name）的代码“name”与前面的字段重复（字段代码在整个申报书内须唯一）"
    ]


def test_unknown_field_type_lists_the_allowed_ones():
    section = _section(fields=[{"key": "x", "label": "附图", "type": "image"}])
    (problem,) = calls.form_definition_errors([section])
    assert problem.startswith(
        "第 1 部分“项目基本信息”第 1 个字段“附图”（x）的类型 'image' 不支持，可用：text（单行文本）"
    )
    assert "multichoice（多选）" in problem


def test_a_choice_field_needs_choices_and_others_may_not_have_them():
    section = _section(
        fields=[
            {"key": "track", "label": "方向", "type": "choice"},
            {"key": "tags", "label": "标签", "type": "multichoice", "choices": ["甲", "甲"]},
            {"key": "name", "label": "名称", "type": "text", "choices": ["甲"]},
        ]
    )
    assert calls.form_definition_errors([section]) == [
        "第 1 部分“项目基本信息”第 1 个字段“方向”（track）是单选字段，须列出至少一个选项",
        "第 1 部分“项目基本信息”第 2 个字段“标签”（tags）的选项重复：甲",
        "第 1 部分“项目基本信息”第 3 个字段“名称”（name）不是单选/多选字段，不能设置选项",
    ]


def test_max_length_only_on_text_and_positive():
    section = _section(
        fields=[
            {"key": "a", "label": "简介", "type": "textarea", "max_length": 0},
            {"key": "b", "label": "金额", "type": "money", "max_length": 10},
        ]
    )
    assert calls.form_definition_errors([section]) == [
        "第 1 部分“项目基本信息”第 1 个字段“简介”（a）的最大长度 0 须为 1–20000 的整数",
        "第 1 部分“项目基本信息”第 2 个字段“金额”（b）不是文本字段，不能设置最大长度",
    ]


def test_bad_keys_and_missing_labels():
    section = _section(key="Basic Info", title="", fields=[{"key": "1x", "type": "text"}])
    assert calls.form_definition_errors([section]) == [
        "第 1 部分的代码 'Basic Info' 不合规：须以小写字母开头，只含小写字母、数字和下划线，最长 40 个字符",
        "第 1 部分须填写标题",
        "第 1 部分第 1 个字段（1x）的代码 '1x' 不合规：须以小写字母开头，只含小写字母、数字和下划线，最长 40 个字符",
        "第 1 部分第 1 个字段（1x）须填写名称",
    ]


def test_show_if_must_refer_to_an_earlier_choice_or_boolean_field_and_a_valid_value():
    later = [
        _section(show_if={"field": "track", "equals": "医药卫生"}),
        _section(
            key="b",
            title="方向",
            fields=[{"key": "track", "label": "方向", "type": "choice", "choices": ["医药卫生"]}],
        ),
    ]
    assert calls.form_definition_errors(later) == [
        "第 1 部分“项目基本信息”的显示条件引用的字段“track”不在前面的部分中（只能依据前面部分的字段）"
    ]
    base = _section(
        fields=[
            {"key": "track", "label": "方向", "type": "choice", "choices": ["联合攻关", "医药卫生"]},
            {"key": "name", "label": "名称", "type": "text"},
            {"key": "clinical", "label": "涉及临床", "type": "boolean"},
        ]
    )
    cases = {
        (
            "track",
            "科技农业",
        ): "第 2 部分“专项”的显示条件：取值 '科技农业' 不是字段“方向”的选项（联合攻关、医药卫生）",
        (
            "name",
            "x",
        ): "第 2 部分“专项”的显示条件引用的字段“名称”（name）是单行文本字段，只能依据单选或是/否字段",
        (
            "clinical",
            "是",
        ): "第 2 部分“专项”的显示条件：字段“涉及临床”是是/否字段，取值须为 true 或 false，收到 '是'",
    }
    for (key, value), message in cases.items():
        conditional = _section(
            key="extra",
            title="专项",
            show_if={"field": key, "equals": value},
            fields=[{"key": "more", "label": "补充", "type": "text"}],
        )
        assert calls.form_definition_errors([base, conditional]) == [message]
    fine = _section(
        key="extra",
        title="专项",
        show_if={"field": "clinical", "equals": True},
        fields=[{"key": "more", "label": "补充", "type": "text"}],
    )
    assert calls.form_definition_errors([base, fine]) == []


def test_empty_form_and_section_without_fields():
    assert calls.form_definition_errors([]) == ["申报书至少须有一个部分"]
    assert calls.form_definition_errors([_section(fields=[])]) == ["第 1 部分“项目基本信息”至少须有一个字段"]


# —— score sheet and eligibility ——


def test_score_sheet_keys_unique_max_positive_weights_sum_to_100():
    sheet = [
        {"key": "innovation", "label": "创新性", "max": 100, "weight": 40},
        {"key": "innovation", "label": "可行性", "max": 0, "weight": 30},
    ]
    assert calls.score_sheet_errors(sheet) == [
        "评分表第 2 项“可行性”的代码“innovation”与前面的评分项重复",
        "评分表第 2 项“可行性”的满分 0 须为大于 0 的数",
        "评分表各项权重之和须为 100，现为 70",
    ]
    assert calls.score_sheet_errors([{"key": "a", "label": "甲", "max": 10, "weight": "100"}]) == []


def test_eligibility_rule_codes_must_exist():
    (problem,) = calls.eligibility_errors([{"rule": "hnte", "label": "高企"}])
    assert problem.startswith(
        "申报条件第 1 条的条件代码 'hnte' 不存在，可用：hnte_valid（持有有效期内的高新技术企业证书）"
    )


def test_call_create_refuses_with_every_problem_and_saves_nothing(cf):
    with pytest.raises(ValidationError) as caught:
        calls.call_create(
            programme=cf.programme,
            user=cf.carol,
            **call_values(
                title="坏批次",
                cap_per_project=Decimal("3000000"),
                closes_at=timezone.now() - dt.timedelta(days=2),
                score_sheet=[{"key": "a", "label": "甲", "max": 10, "weight": 50}],
            ),
        )
    errors = caught.value.message_dict
    assert errors["cap_per_project"] == ["单项资助上限 3,000,000.00 元不能超过总预算 2,000,000.00 元"]
    assert errors["closes_at"][0].startswith("截止时间 ")
    assert errors["score_sheet"] == ["评分表各项权重之和须为 100，现为 50"]
    assert not Call.objects.filter(title="坏批次").exists()


def test_call_starts_as_draft_opens_and_its_form_is_fixed_once_applied(cf):
    draft = calls.call_create(programme=cf.programme, user=cf.carol, **call_values(title="草稿批次"))
    assert draft.state == "draft"
    assert calls.accepting_refusal(draft) == f"“{draft}”不在受理期（当前状态：草稿）"
    started(cf.call, cf.ent_a, cf.alice)
    with pytest.raises(ValidationError) as caught:
        calls.call_update(cf.call, user=cf.carol, form=[_section()])
    assert caught.value.message_dict == {"form": ["本批次已有 1 份申报，不能再修改"]}
    calls.call_update(cf.call, user=cf.carol, guide="补充说明")
    cf.call.refresh_from_db()
    assert cf.call.guide == "补充说明"


# —— eligibility ——


def test_eligibility_met_and_not_met_with_reasons(cf):
    results = eligibility.check(cf.call, cf.ent_a)
    assert [(r.rule, r.met) for r in results] == [("registered_in_songjiang", True), ("hnte_valid", True)]
    assert results.eligible
    results = eligibility.check(cf.call, cf.ent_b)
    assert [(r.rule, r.met) for r in results] == [("registered_in_songjiang", True), ("hnte_valid", False)]
    assert results[1].reason == "未持有有效期内的高新技术企业证书"
    assert not results.eligible
    assert results.reasons == ["不满足“有效期内的高新技术企业”：未持有有效期内的高新技术企业证书"]


def test_an_expired_certificate_is_named_with_its_date(cf):
    Qualification.objects.create(enterprise=cf.ent_b, kind="hnte", issue_date=dt.date(2020, 1, 10))
    (result,) = [r for r in eligibility.check(cf.call, cf.ent_b) if r.rule == "hnte_valid"]
    assert (result.met, result.reason) == (
        False,
        "未持有有效期内的高新技术企业证书：最近一张已于 2023-01-09 到期",
    )


def test_unknown_when_the_registry_cannot_tell(cf):
    cf.ent_b.park = None
    cf.ent_b.address = ""
    cf.ent_b.save()
    Qualification.objects.create(enterprise=cf.ent_b, kind="specialised_sme", issue_date=timezone.localdate())
    cf.call.eligibility = [{"rule": "registered_in_songjiang", "label": ""}, {"rule": "srdi", "label": ""}]
    results = eligibility.check(cf.call, cf.ent_b)
    assert [r.met for r in results] == [None, None]
    assert results[0].reason == "企业库未记录所在园区，注册地址也未显示在松江区，请在形式审查时核实营业执照"
    assert (
        results[1].reason
        == "持有有效期内的专精特新中小企业证书，但企业库未登记其级别，请核实是否为市级及以上"
    )
    assert results.eligible  # unknown is not refused: formal review verifies it
    assert results[0].label == "在松江区注册、存续经营的企业"  # the rule's own label when the call gives none


def test_deregistered_enterprise_is_not_registered_in_songjiang(cf):
    cf.ent_b.status = "deregistered"
    cf.ent_b.save()
    (result, _) = eligibility.check(cf.call, cf.ent_b)
    assert (result.met, result.reason) == (False, "企业状态为“注销”，不是存续企业")


def test_no_open_application_in_another_call_of_the_programme(cf):
    from kechuang.projects import applications
    from tests.projects.call_fixtures import filled, open_call

    first = started(cf.call, cf.ent_a, cf.alice)
    filled(first, cf.alice)
    agriculture = type(cf.programme).objects.create(code="gongguan-agri", name="科技农业", parent=cf.root)
    second = open_call(agriculture, cf.carol, title="2026年度科技攻关项目（科技农业）")
    second.eligibility = [{"rule": "no_open_application_in_programme", "label": ""}]
    second.save()
    assert eligibility.check(second, cf.ent_a)[0].met is True  # a draft is not in flight
    applications.application_submit(first, user=cf.alice)
    (result,) = eligibility.check(second, cf.ent_a)
    assert result.met is False
    assert result.reason == (
        f"在“科技攻关”计划内已有在审或在研项目：{cf.call}《高精度伺服系统关键技术攻关》（状态：已提交）"
    )
    # The application itself, checked again under its own call, does not block itself.
    cf.call.eligibility = [{"rule": "no_open_application_in_programme", "label": ""}]
    assert eligibility.check(cf.call, cf.ent_a)[0].met is True


# —— pages ——


def test_officer_lists_calls_with_search_and_state_filter(cf, client):
    calls.call_create(programme=cf.programme, user=cf.carol, **call_values(title="医药卫生专项申报"))
    client.force_login(cf.carol)
    page = client.get(reverse("projects:call-list"))
    assert page.status_code == 200
    assert "医药卫生专项申报" in page.content.decode() and "联合攻关" in page.content.decode()
    page = client.get(reverse("projects:call-list"), {"q": "医药", "state": "draft"})
    body = page.content.decode()
    assert "医药卫生专项申报" in body and "2026年度科技攻关项目（联合攻关）" not in body


def test_enterprise_user_cannot_reach_the_builder(cf, client):
    client.force_login(cf.alice)
    assert client.get(reverse("projects:call-create")).status_code == 403
    assert client.get(reverse("projects:call-list")).status_code == 403


def test_builder_saves_a_valid_definition_and_shows_chinese_errors(cf, client):
    client.force_login(cf.carol)
    assert client.get(reverse("projects:call-create")).status_code == 200
    now = timezone.localtime()
    post = {
        "programme": cf.programme.pk,
        "year": 2026,
        "title": "构建器批次",
        "guide": "指南",
        "budget_total": "100",
        "cap_per_project": "50",
        "opens_at": (now + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + dt.timedelta(days=20)).strftime("%Y-%m-%dT%H:%M"),
        "experts_per_application": 5,
        "form": json.dumps([_section(), _section(title="重复")], ensure_ascii=False),
        "score_sheet": json.dumps(SCORE_SHEET),
        "eligibility": json.dumps([{"rule": "hnte_valid", "label": ""}]),
    }
    page = client.post(reverse("projects:call-create"), post)
    assert page.status_code == 200
    assert "第 2 部分“重复”的代码“basic”与前面的部分重复" in page.content.decode()
    assert not Call.objects.filter(title="构建器批次").exists()
    post["form"] = json.dumps(FORM, ensure_ascii=False)
    page = client.post(reverse("projects:call-create"), post)
    call = Call.objects.get(title="构建器批次")
    assert page.status_code == 302 and call.form == FORM
    assert call.budget_total == Decimal("1000000")  # the form asks 万元; stored in 元


def test_invalid_json_is_reported_not_crashed(cf, client):
    client.force_login(cf.carol)
    page = client.post(reverse("projects:call-edit", args=[cf.call.pk]), {"form": "[{", "title": "x"})
    assert page.status_code == 200
    assert "申报书定义不是有效的 JSON" in page.content.decode()


# —— demo data ——


def test_demo_makes_the_programme_an_open_call_and_applications_through_the_services(
    personas, settings, tmp_path
):
    from kechuang.projects import demo
    from kechuang.projects.models import Application, Programme

    settings.MEDIA_ROOT = tmp_path
    type(personas.ent_a).objects.update(is_demo=True)
    report = demo.load_demo_calls()
    assert report.created and (report.submitted, report.drafts) == (2, 0)  # two demo enterprises: both submit
    names = dict(Programme.objects.values_list("code", "name"))
    assert names == {
        "kjgg": "科技攻关",
        "kjgg-lhgg": "联合攻关",
        "kjgg-yyws": "医药卫生",
        "kjgg-kjny": "科技农业",
    }
    assert report.call.state == "open" and calls.form_definition_errors(report.call.form) == []
    medical = Application.objects.get(title__startswith="植入式神经电极")
    assert (
        medical.state == "submitted" and medical.attachments.count() == 3
    )  # incl. the conditional 伦理审查批件
    assert not demo.load_demo_calls().created  # idempotent
    assert Application.objects.count() == 2
    # The expert pool: five without accounts (there is no demo `expert` user here), made once.
    from kechuang.projects.models import Expert

    assert (
        report.experts == Expert.objects.count() == 5
        and not Expert.objects.filter(user__isnull=False).exists()
    )


def test_the_demo_expert_account_is_an_expert(personas, settings, tmp_path):
    from django.contrib.auth.models import User

    from kechuang.projects import demo

    settings.MEDIA_ROOT = tmp_path
    demo_expert = User.objects.create_user("expert")
    demo.load_demo_calls()
    assert demo_expert.expert.name == "示例专家" and "01" in demo_expert.expert.fields


def test_the_demo_source_quotes_the_document_text():
    from pathlib import Path

    from kechuang.projects import demo

    text = (Path(__file__).resolve().parents[2] / "docs/sources/003_24d1a3d8067cc18f.txt").read_text()
    assert "松科委〔2026〕13号" in text.splitlines()[4]
    assert demo.QUOTE in text.splitlines()[45]
    policy = (Path(__file__).resolve().parents[2] / "docs/sources/001_c60c974973587176.txt").read_text()
    assert "沪松府〔2025〕150号" in policy and "（四）鼓励关键技术攻关" in policy.splitlines()[30]


def test_officer_opens_a_call_from_its_page_and_sees_why_it_cannot_close_yet(cf, client):
    draft = calls.call_create(programme=cf.programme, user=cf.carol, **call_values(title="待发布批次"))
    client.force_login(cf.carol)
    page = client.get(reverse("projects:call-detail", args=[draft.pk]))
    assert page.status_code == 200 and "发布申报指南" in page.content.decode()
    client.post(reverse("projects:call-transition", args=[draft.pk, "open"]))
    draft.refresh_from_db()
    assert draft.state == "open"
    page = client.post(reverse("projects:call-transition", args=[draft.pk, "close"]), follow=True)
    assert "申报截止时间" in page.content.decode() and "未到" in page.content.decode()
    draft.refresh_from_db()
    assert draft.state == "open"


def test_editing_an_applied_call_without_touching_the_locked_fields_saves(cf, client):
    started(cf.call, cf.ent_a, cf.alice)
    client.force_login(cf.carol)
    page = client.get(reverse("projects:call-edit", args=[cf.call.pk]))
    form = page.context["form"]
    post = {name: form.initial.get(name, "") for name in form.fields}
    post["programme"] = cf.programme.pk
    post["guide"] = "补充：附件须加盖公章。"
    response = client.post(reverse("projects:call-edit", args=[cf.call.pk]), post)
    assert response.status_code == 302, response.content.decode()[:2000]
    cf.call.refresh_from_db()
    assert cf.call.guide == "补充：附件须加盖公章。"


def test_a_call_names_its_year_once():
    assert str(Call(year=2026, title="2026年度科技小巨人工程")) == "2026年度科技小巨人工程"
    assert str(Call(year=2026, title="科技小巨人工程")) == "2026年度 科技小巨人工程"
