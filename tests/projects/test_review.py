"""评审: conflicts of interest, proposals, assignment, scoring, aggregation, ranking, and the review pages."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from kechuang.core import roles
from kechuang.projects import review, review_selectors
from kechuang.projects.models import (
    AssignmentState,
    ConflictKind,
    ExpertConflict,
    ReviewAssignment,
    Score,
)
from tests.projects import review_fixtures as f

pytestmark = pytest.mark.django_db
D = Decimal


def assignment(app, expert, state=AssignmentState.ACCEPTED, **fields):
    return ReviewAssignment.objects.create(application=app, expert=expert, state=state, **fields)


def scored(app, expert, share: str, **fields):
    """An assignment of `expert` to `app`, submitted with every criterion at `share` of its maximum."""
    a = assignment(app, expert)
    review.submit_scores(a, f.full_marks_share(D(share)), "意见", None)
    if fields:
        ReviewAssignment.objects.filter(pk=a.pk).update(**fields)
    return a


# —— 回避 ——————————————————————————————————————————————————————————————————————————————————————————————


def test_an_expert_of_the_applicant_by_credit_code_has_a_conflict():
    ent = f.make_enterprise("上海丙芯片有限公司")
    app = f.make_application(f.make_call(), ent)
    expert = f.make_expert(organisation="丙芯片研究院", code=ent.uscc.lower())
    assert review.conflicts(expert, app) == [f"工作单位即申报单位（统一社会信用代码 {ent.uscc}）"]


@pytest.mark.parametrize(
    "organisation",
    [
        "上海丁科技(集团)有限公司",
        "上海丁科技（集团） 有限公司",
        "上海丁科技(集团)\u3000有限公司",
        " 上海丁科技（集团）有限公司 ",
    ],
)
def test_an_expert_of_the_applicant_by_name_has_a_conflict_whatever_the_brackets_and_spaces(organisation):
    app = f.make_application(f.make_call(), f.make_enterprise("上海丁科技（集团）有限公司"))
    expert = f.make_expert(organisation=organisation)
    assert review.conflicts(expert, app) == [
        f"工作单位“{organisation}”即申报单位“上海丁科技（集团）有限公司”"
    ]


@pytest.mark.parametrize(
    "organisation", ["上海丁科技（集团）有限公司研究院", "上海丁科技有限公司", "上海丁科技（集团)"]
)
def test_a_different_name_is_not_a_conflict(organisation):
    app = f.make_application(f.make_call(), f.make_enterprise("上海丁科技（集团）有限公司"))
    assert review.conflicts(f.make_expert(organisation=organisation), app) == []


@pytest.mark.parametrize("kind", list(ConflictKind))
def test_a_recorded_conflict_of_any_kind_with_the_enterprise_is_a_conflict(kind):
    ent = f.make_enterprise("上海戊材料有限公司")
    call = f.make_call()
    app, other = f.make_application(call, ent), f.make_application(call, ent)
    expert = f.make_expert()
    ExpertConflict.objects.create(expert=expert, enterprise=ent, kind=kind, note="2024 年合作课题")
    expected = [f"与上海戊材料有限公司存在回避关系：{kind.label}（2024 年合作课题）"]
    assert review.conflicts(expert, app) == expected
    assert review.conflicts(expert, other) == expected  # every application of the enterprise
    assert review.conflicts(f.make_expert(), app) == []


def test_a_withdrawal_from_the_application_is_a_conflict_on_it():
    call = f.make_call()
    app = f.make_application(call)
    expert = f.make_expert()
    assignment(app, expert, AssignmentState.WITHDRAWN, comment="曾指导该项目")
    assert review.conflicts(expert, app) == ["本人已申明回避本项目：曾指导该项目"]


# —— 推荐 ——————————————————————————————————————————————————————————————————————————————————————————————


def picked(proposal, app):
    return [expert for expert, _ in proposal.get(app.pk, [])]


def test_a_proposal_never_includes_an_expert_with_a_conflict_and_says_when_there_are_too_few():
    ent = f.make_enterprise("上海己医药有限公司")
    call = f.make_call(experts_per_application=5)
    app = f.make_application(call, ent)
    same_code = f.make_expert(code=ent.uscc)
    same_name = f.make_expert(organisation="上海己医药有限公司")
    recorded = f.make_expert()
    ExpertConflict.objects.create(expert=recorded, enterprise=ent, kind=ConflictKind.COLLABORATION)
    withdrew = f.make_expert()
    assignment(app, withdrew, AssignmentState.WITHDRAWN, comment="亲属任职")
    clean = f.experts(3)
    f.make_expert(active=False)  # not in the pool
    proposal = review.propose(call, seed=1)
    assert sorted(e.pk for e in picked(proposal, app)) == sorted(e.pk for e in clean)
    assert {same_code, same_name, recorded, withdrew}.isdisjoint(picked(proposal, app))
    assert (
        proposal.notes[app.pk]
        == "可选专家不足：还需 5 名，无回避关系的在库专家仅 3 名，已全部推荐，请补充专家"
    )


def test_with_no_expert_at_all_nothing_is_proposed_and_it_is_said():
    call = f.make_call(experts_per_application=3)
    app = f.make_application(call)
    proposal = review.propose(call, seed=1)
    assert proposal[app.pk] == []
    assert proposal.notes[app.pk] == "可选专家不足：还需 3 名，无回避关系的在库专家仅 0 名，请扩充专家库"


def test_many_applications_and_random_conflicts_never_yield_a_conflicted_pick():
    import random

    rng = random.Random(5)
    call = f.make_call(experts_per_application=3)
    enterprises = [f.make_enterprise() for _ in range(12)]
    apps = [f.make_application(call, e, field=rng.choice(["01", "02"])) for e in enterprises]
    pool = [f.make_expert(fields=[rng.choice(["01", "02"])]) for _ in range(15)]
    for expert in pool:
        for ent in rng.sample(enterprises, 4):
            ExpertConflict.objects.create(expert=expert, enterprise=ent, kind=ConflictKind.COLLABORATION)
    pool[0].organisation = enterprises[0].name
    pool[0].save()
    proposal = review.propose(call, seed=9)
    assert proposal.count > 0
    for app in apps:
        for expert in picked(proposal, app):
            assert review.conflicts(expert, app) == []


def test_field_then_affinity_then_workload_decide_with_the_reasons_given():
    """The reason names the terms of the application the expert shares (Affinity.reason): its keywords and,
    for an expert of the field, the field's name, which the expert's fields bring."""
    call = f.make_call(experts_per_application=3)
    app = f.make_application(call, field="01", keywords="芯片、封装，测试")
    only_field = f.make_expert("甲", fields=["01"])
    f.make_expert("乙", fields=["02"], keywords="芯片 封装 测试")
    one_word = f.make_expert("丙", fields=["01"], keywords="芯片")
    two_words = f.make_expert("丁", fields=["01", "04"], keywords="芯片;封装")
    proposal = review.propose(call, seed=3)
    assert picked(proposal, app) == [two_words, one_word, only_field]
    assert [reason for _, reason in proposal[app.pk]] == [
        "领域匹配：电子信息；相关专长：封装、芯片；本批已分配 0 项",
        "领域匹配：电子信息；相关专长：芯片；本批已分配 0 项",
        "领域匹配：电子信息；专长无相关词；本批已分配 0 项",
    ]


def test_an_expert_with_related_keywords_outranks_one_with_unrelated_keywords_whatever_the_seed():
    """功率器件 shares no whole keyword with “碳化硅功率模块封装” (the old overlap count gave 0 to both experts),
    but the engine's tokens (功率) bring it close; the unrelated expert comes first by id and would win half
    the random draws."""
    call = f.make_call(experts_per_application=1)
    app = f.make_application(call, title="碳化硅功率模块封装", field="01", keywords="SiC、模块")
    unrelated = f.make_expert("乙", fields=["01"], keywords="疫苗、抗体")
    close = f.make_expert("甲", fields=["01"], keywords="功率器件")
    for seed in range(8):
        proposal = review.propose(call, seed=seed)
        assert picked(proposal, app) == [close], seed
    assert proposal[app.pk][0][1] == "领域匹配：电子信息；相关专长：功率；本批已分配 0 项"
    call.experts_per_application = 2
    call.save()
    reasons = dict(review.propose(call, seed=1)[app.pk])
    assert reasons[unrelated] == "领域匹配：电子信息；专长无相关词；本批已分配 0 项"


def test_an_expert_of_the_field_comes_before_a_closer_one_outside_it():
    call = f.make_call(experts_per_application=1)
    app = f.make_application(call, title="碳化硅功率模块封装", field="01", keywords="碳化硅、功率器件")
    outside = f.make_expert("外领域", fields=["06"], keywords="碳化硅、功率器件、模块封装")
    inside = f.make_expert("本领域", fields=["01"], keywords="疫苗")
    proposal = review.propose(call, seed=1)
    assert picked(proposal, app) == [inside]
    call.experts_per_application = 2
    call.save()
    proposal = review.propose(call, seed=1)
    assert picked(proposal, app) == [inside, outside]
    assert (
        proposal[app.pk][1][1].startswith("领域不同；相关专长：碳化硅")
        and "功率器件" in proposal[app.pk][1][1]
    )


def test_the_closest_expert_is_never_proposed_when_it_has_a_conflict():
    ent = f.make_enterprise("上海辛半导体有限公司")
    call = f.make_call(experts_per_application=1)
    app = f.make_application(call, ent, title="碳化硅功率模块封装", field="01", keywords="碳化硅")
    closest = f.make_expert("最相关", fields=["01"], keywords="碳化硅、功率器件、模块封装")
    ExpertConflict.objects.create(expert=closest, enterprise=ent, kind=ConflictKind.SAME_ORGANISATION)
    at_applicant = f.make_expert(
        "申报单位专家", organisation="上海辛半导体有限公司", fields=["01"], keywords="碳化硅"
    )
    fallback = f.make_expert("其次", fields=["01"], keywords="功率器件")
    for seed in range(4):
        proposal = review.propose(call, seed=seed)
        assert picked(proposal, app) == [fallback], seed
    assert {closest, at_applicant}.isdisjoint(picked(proposal, app))


def test_affinity_outranks_workload_and_the_count_includes_this_batch():
    call = f.make_call(experts_per_application=1)
    first = f.make_application(call, field="01", keywords="芯片")
    second = f.make_application(call, field="01", keywords="芯片")
    specialist = f.make_expert(fields=["01"], keywords="芯片")
    f.make_expert(fields=["01"])
    proposal = review.propose(call, seed=1)
    assert picked(proposal, first) == picked(proposal, second) == [specialist]
    assert proposal[second.pk][0][1] == "领域匹配：电子信息；相关专长：芯片；本批已分配 1 项"


def test_workload_is_balanced_when_everything_else_is_equal():
    call = f.make_call(experts_per_application=3)
    apps = [f.make_application(call) for _ in range(7)]
    pool = f.experts(10)
    proposal = review.propose(call, seed=11)
    load = Counter(e.pk for app in apps for e in picked(proposal, app))
    counts = [load.get(e.pk, 0) for e in pool]
    assert sum(counts) == 21 and max(counts) - min(counts) <= 1
    assert all(len(set(picked(proposal, app))) == 3 for app in apps)


def test_existing_assignments_in_the_call_count_towards_the_workload():
    call = f.make_call(experts_per_application=1)
    busy, *others = f.experts(3)
    for _ in range(2):  # already reviewing two applications of this call
        assignment(f.make_application(call, state="reviewed"), busy)
    assignment(f.make_application(f.make_call(title="另一批次"), state="reviewed"), others[0])  # other call
    apps = [f.make_application(call) for _ in range(4)]
    proposal = review.propose(call, seed=2)
    load = Counter(e.pk for app in apps for e in picked(proposal, app))
    assert load[busy.pk] == 0 and load[others[0].pk] == load[others[1].pk] == 2


def test_applications_already_staffed_get_nothing_and_partly_staffed_get_what_is_missing():
    call = f.make_call(experts_per_application=2)
    full, half = (
        f.make_application(call, state="under_review"),
        f.make_application(call, state="under_review"),
    )
    a, b, c = f.experts(3)
    assignment(full, a), assignment(full, b), assignment(half, a)
    proposal = review.propose(call, seed=1)
    assert full.pk not in proposal
    assert len(picked(proposal, half)) == 1 and a not in picked(proposal, half)


def test_only_applications_in_the_given_states_are_proposed_for():
    call = f.make_call(experts_per_application=1)
    passed = f.make_application(call)
    submitted = f.make_application(call, state="submitted")
    draft = f.make_application(call, state="draft")
    f.experts(2)
    assert set(review.propose(call, seed=1)) == {passed.pk}
    assert set(review.propose(call, seed=1, states=["submitted", "formally_passed"])) == {
        passed.pk,
        submitted.pk,
    }
    assert draft.pk not in review.propose(call, seed=1, states=["submitted"])


def test_the_same_seed_gives_the_same_proposal_and_other_seeds_differ():
    call = f.make_call(experts_per_application=3)
    for _ in range(6):
        f.make_application(call)
    f.experts(12)
    first = review.propose(call, seed=42)
    assert review.propose(call, seed=42).pairs() == first.pairs()
    assert review.propose(call, seed=42).digest() == first.digest()
    assert len({review.propose(call, seed=s).digest() for s in range(6)}) > 1


def test_the_same_seed_gives_the_same_picks_and_reasons_when_affinity_ties_and_differs():
    """Experts of equal affinity (the same keywords) are drawn among: one draw per candidate, in expert order."""
    call = f.make_call(experts_per_application=2)
    apps = [f.make_application(call, title="功率模块封装", field="01", keywords="功率器件") for _ in range(4)]
    f.experts(6, fields=["01"], keywords="功率器件")
    f.experts(3, fields=["01"], keywords="封装")
    first = review.propose(call, seed=7)
    again = review.propose(call, seed=7)
    assert again.pairs() == first.pairs()
    assert [[r for _, r in again[a.pk]] for a in apps] == [[r for _, r in first[a.pk]] for a in apps]
    assert len({review.propose(call, seed=s).digest() for s in range(6)}) > 1


# —— 分配、回避、补充 ——————————————————————————————————————————————————————————————————————————————————


def test_assign_writes_the_proposal_in_bulk_as_invitations(django_assert_max_num_queries):
    call = f.make_call(experts_per_application=2)
    apps = [f.make_application(call) for _ in range(5)]
    f.experts(4)
    proposal = review.propose(call, seed=1)
    with django_assert_max_num_queries(12):  # 7 reads and one insert, with savepoints
        created = review.assign(call, proposal, None)
    assert len(created) == 10
    rows = ReviewAssignment.objects.filter(application__in=apps)
    assert rows.count() == 10 and set(rows.values_list("state", flat=True)) == {"proposed"}
    assert all(r.reason.startswith("领域") for r in rows)


def test_assign_refuses_a_conflicted_pair_a_repeat_or_too_many_and_writes_nothing():
    ent = f.make_enterprise("上海庚能源有限公司")
    call = f.make_call(experts_per_application=2)
    app = f.make_application(call, ent)
    insider = f.make_expert(organisation="上海庚能源有限公司")
    a, b, c = f.experts(3)
    assignment(app, a)
    cases = [
        (
            {app.pk: [(insider, "")]},
            "存在回避关系：工作单位“上海庚能源有限公司”即申报单位“上海庚能源有限公司”，不能分配",
        ),
        ({app.pk: [(a, "")]}, "已在评审名单中，不能重复分配"),
        ({app.pk: [(b, ""), (c, "")]}, "已有 1 名专家，再分配 2 名将超过每项评审专家数 2"),
    ]
    for proposals, message in cases:
        with pytest.raises(ValidationError) as caught:
            review.assign(call, proposals, None)
        assert any(message in m for m in caught.value.message_dict["assignments"])
        assert ReviewAssignment.objects.filter(application=app).count() == 1


def test_declaring_a_conflict_withdraws_records_it_and_a_replacement_can_be_proposed():
    call = f.make_call(experts_per_application=2)
    app = f.make_application(call)
    first, second, spare = f.experts(3)
    a = assignment(app, first, AssignmentState.PROPOSED)
    assignment(app, second)
    with pytest.raises(ValidationError) as caught:
        review.declare_conflict(a, "  ", None)
    assert caught.value.message_dict == {"reason": ["申明回避须说明原因"]}
    review.declare_conflict(a, "近两年与该单位合作研发", None)
    a.refresh_from_db()
    assert a.state == AssignmentState.WITHDRAWN and a.comment == "近两年与该单位合作研发"
    recorded = ExpertConflict.objects.get(expert=first, enterprise=app.enterprise)
    assert recorded.kind == ConflictKind.DECLARED and "近两年与该单位合作研发" in recorded.note
    assert "本人已申明回避本项目：近两年与该单位合作研发" in review.conflicts(first, app)
    proposal = review.replace(a, seed=1)
    assert picked(proposal, app) == [spare]
    review.assign(call, proposal, None)
    assert ReviewAssignment.objects.filter(application=app, state__in=review.ACTIVE).count() == 2


def test_only_the_expert_or_an_officer_declares_a_conflict(personas):
    call = f.make_call()
    expert = f.make_expert(user=personas.eve)
    a = assignment(f.make_application(call), expert)
    with pytest.raises(ValidationError):
        review.declare_conflict(a, "理由", personas.alice)
    review.declare_conflict(a, "理由", personas.eve)


# —— 评分 ——————————————————————————————————————————————————————————————————————————————————————————————


@pytest.fixture
def to_score():
    call = f.make_call(experts_per_application=1)
    app = f.make_application(call, f.make_enterprise("上海辛软件有限公司"))
    return assignment(app, f.make_expert("王五"))


GOOD = {"innovation": "8", "team": "15", "benefit": "4"}


def test_scores_are_saved_once_with_the_comment(to_score):
    review.submit_scores(to_score, GOOD, "技术路线清晰", None)
    to_score.refresh_from_db()
    assert to_score.state == AssignmentState.SUBMITTED and to_score.comment == "技术路线清晰"
    assert to_score.submitted_at is not None
    assert dict(to_score.scores.values_list("criterion", "value")) == {
        "innovation": D("8"),
        "team": D("15"),
        "benefit": D("4"),
    }
    assert to_score.total == D("78.50")  # 8/10 × 40 + 15/20 × 30 + 4/5 × 30, kept for the ranking


def refused(assignment, values, **expected):
    state = ReviewAssignment.objects.get(pk=assignment.pk).state
    before = Score.objects.filter(assignment=assignment).count()
    with pytest.raises(ValidationError) as caught:
        review.submit_scores(assignment, values, "", None)
    assert Score.objects.filter(assignment=assignment).count() == before
    assert ReviewAssignment.objects.get(pk=assignment.pk).state == state
    for key, message in expected.items():
        assert caught.value.message_dict[key] == [message], caught.value.message_dict
    return caught.value.message_dict


def test_an_expert_with_a_conflict_may_not_score(to_score):
    ExpertConflict.objects.create(
        expert=to_score.expert, enterprise=to_score.application.enterprise, kind=ConflictKind.COLLABORATION
    )
    refused(to_score, GOOD, expert="存在回避关系：与上海辛软件有限公司存在回避关系：近三年合作，不能评审")


def test_a_withdrawn_expert_may_not_score(to_score):
    to_score.state = AssignmentState.WITHDRAWN
    to_score.save()
    refused(to_score, GOOD, state="已申明回避退出本项目评审，不能评分")


def test_a_missing_criterion_is_refused(to_score):
    refused(to_score, {"innovation": "8", "team": "15"}, benefit="未填写“预期效益”的得分（允许 0–5）")
    refused(to_score, {**GOOD, "benefit": " "}, benefit="未填写“预期效益”的得分（允许 0–5）")


def test_an_unknown_criterion_is_refused(to_score):
    refused(
        to_score,
        {**GOOD, "novelty": "3"},
        novelty="评分表中没有评分项“novelty”（得分 3），评分项为 innovation、team、benefit",
    )


@pytest.mark.parametrize(
    "value, message",
    [
        ("20.5", "“团队与基础”的得分 20.5 超出允许范围 0–20"),
        ("-1", "“团队与基础”的得分 -1 超出允许范围 0–20"),
        ("十五", "“团队与基础”的得分“十五”不是数字（允许 0–20）"),
        ("12.345", "“团队与基础”的得分 12.345 最多保留两位小数"),
    ],
)
def test_a_value_outside_the_sheet_is_refused_naming_criterion_value_and_range(to_score, value, message):
    refused(to_score, {**GOOD, "team": value}, team=message)


def test_the_maximum_itself_and_zero_are_allowed(to_score):
    review.submit_scores(to_score, {"innovation": "10", "team": "0", "benefit": "5.00"}, "", None)


def test_a_second_submission_is_refused(to_score):
    review.submit_scores(to_score, GOOD, "", None)
    errors = refused(to_score, {"innovation": "1", "team": "1", "benefit": "1"})
    assert errors["state"][0].startswith("已于 ") and errors["state"][0].endswith("提交评分，不能重复提交")
    assert dict(to_score.scores.values_list("criterion", "value"))["innovation"] == D("8")


def test_another_user_may_not_score_for_the_expert(to_score, personas):
    refused_message = {"expert": ["只有受邀专家本人可以提交评分"]}
    with pytest.raises(ValidationError) as caught:
        review.submit_scores(to_score, GOOD, "", personas.alice)
    assert caught.value.message_dict == refused_message


# —— 汇总与排名 ————————————————————————————————————————————————————————————————————————————————————————


def test_the_weighted_total_is_out_of_100():
    sheet = review.criteria(f.make_call())
    # 8/10 × 40 + 15/20 × 30 + 4/5 × 30 = 32 + 22.5 + 24
    assert review.weighted_total(sheet, {"innovation": D(8), "team": D(15), "benefit": D(4)}) == D("78.50")
    assert review.weighted_total(sheet, {"innovation": D(10), "team": D(20), "benefit": D(5)}) == D("100.00")


def test_weights_not_summing_to_100_are_scaled_to_100():
    call = f.make_call(
        sheet=[
            {"key": "a", "label": "甲", "max": 10, "weight": 1},
            {"key": "b", "label": "乙", "max": 10, "weight": 1},
        ]
    )
    assert review.weighted_total(review.criteria(call), {"a": D(10), "b": D(5)}) == D("75.00")


def test_four_scores_give_the_plain_mean_five_drop_the_highest_and_lowest():
    four = review.aggregate([D(60), D(70), D(80), D(95)])
    assert four.mean == D("76.25") and not four.trimmed
    five = review.aggregate([D(10), D(60), D(70), D(80), D(100)])
    assert five.mean == D("70.00") and five.trimmed
    assert (five.low, five.high, five.median) == (D(10), D(100), D(70))


def test_an_outlier_is_more_than_20_points_from_the_median():
    assert review.aggregate([D(60), D(80), D(80)]).outliers == [False, False, False]  # exactly 20
    assert review.aggregate([D("59.99"), D(80), D(80)]).outliers == [True, False, False]
    assert review.aggregate([D(80), D(80), D("100.01")]).outliers == [False, False, True]


def test_trimmed_mean_with_4_and_5_experts_from_the_database():
    call = f.make_call(experts_per_application=5)
    four, five = f.make_application(call), f.make_application(call)
    pool = f.experts(5)
    for expert, share in zip(pool, ["0.6", "0.7", "0.8", "0.95"], strict=False):
        scored(four, expert, share)
    for expert, share in zip(pool, ["0.1", "0.6", "0.7", "0.8", "0.9"], strict=True):
        scored(five, expert, share)
    rows = {r.application.pk: r for r in review_selectors.call_ranking(call)}
    assert rows[four.pk].aggregate.mean == D("76.25") and rows[four.pk].n == 4
    assert rows[five.pk].aggregate.mean == D("70.00") and rows[five.pk].n == 5
    # 10 is 60 from the median 70, 90 exactly 20.
    assert [e.expert_name for e in rows[five.pk].outliers] == [pool[0].name]
    assert [
        r.outlier for r in review_selectors.application_reviews(five).reviews if r.total is not None
    ].count(True) == 1


def test_the_ranking_orders_by_score_then_submission_time_and_puts_unscored_last():
    call = f.make_call(experts_per_application=1)
    now = timezone.now()
    early = f.make_application(call, title="早", submitted_at=now - dt.timedelta(days=3))
    late = f.make_application(call, title="晚", submitted_at=now - dt.timedelta(days=1))
    best = f.make_application(call, title="最高", submitted_at=now)
    unscored = f.make_application(call, title="未评", submitted_at=now - dt.timedelta(days=9))
    e = f.experts(4)
    scored(late, e[0], "0.8")
    scored(early, e[1], "0.8")
    scored(best, e[2], "0.9")
    assignment(unscored, e[3])
    rows = review_selectors.call_ranking(call)
    assert [(r.application.title, r.rank) for r in rows] == [
        ("最高", 1),
        ("早", 2),
        ("晚", 3),
        ("未评", None),
    ]
    assert rows[3].pending == 1


def test_the_remembered_ranking_follows_every_change_of_assignments_scores_and_states():
    call = f.make_call(experts_per_application=2)
    app = f.make_application(call, title="甲")
    other = f.make_application(call, title="乙")
    e = f.experts(4)
    first = scored(app, e[0], "0.8")
    waiting = assignment(other, e[1], AssignmentState.PROPOSED)
    assert [(r.application.title, r.n, r.assigned) for r in review_selectors.call_ranking(call)] == [
        ("甲", 1, 1),
        ("乙", 0, 1),
    ]
    # Each step below changes what the page shows; a stale ranking would fail the assertion after it.
    review.accept(waiting, None)
    review.submit_scores(waiting, f.full_marks_share(D("0.9")), "意见", None)
    rows = review_selectors.call_ranking(call)
    assert [(r.application.title, r.aggregate.mean) for r in rows] == [("乙", D("90.00")), ("甲", D("80.00"))]
    scored(app, e[2], "1")
    assert [r.aggregate.mean for r in review_selectors.call_ranking(call)] == [D("90.00"), D("90.00")]
    ReviewAssignment.objects.filter(pk=first.pk).update(state=AssignmentState.WITHDRAWN)
    rows = {r.application.title: r for r in review_selectors.call_ranking(call)}
    assert rows["甲"].aggregate.mean == D("100.00") and rows["甲"].assigned == 1
    assignment(app, e[3], AssignmentState.PROPOSED)
    assert {r.application.title: r.assigned for r in review_selectors.call_ranking(call)}["甲"] == 2
    # The same state again is served from memory: the very same rows.
    assert review_selectors.call_ranking(call) is review_selectors.call_ranking(call)


# —— 页面 ——————————————————————————————————————————————————————————————————————————————————————————————


@pytest.fixture
def pages(settings, personas):
    personas.frank = User.objects.create_user("frank", password="pass-frank")
    personas.frank.groups.add(Group.objects.get(name=roles.EXPERT.name))
    personas.eve_expert = f.make_expert("伊娃", organisation="松江大学", fields=["01"], user=personas.eve)
    personas.frank_expert = f.make_expert(
        "弗兰克", organisation="松江研究院", fields=["01"], user=personas.frank
    )
    personas.call = f.make_call(experts_per_application=2)
    personas.app = f.make_application(personas.call, personas.ent_a, title="芯片封装测试平台", field="01")
    personas.eve_on_app = assignment(personas.app, personas.eve_expert, AssignmentState.PROPOSED)
    personas.frank_on_app = assignment(personas.app, personas.frank_expert)
    return personas


def url(name, *args):
    return reverse(f"projects:{name}", args=args)


def officer_urls(p):
    return [
        url("review-experts"),
        url("review-call", p.call.pk),
        url("review-ranking", p.call.pk),
        url("review-application", p.app.pk),
    ]


def test_officer_pages_open_for_an_officer(client, pages):
    client.force_login(pages.carol)
    for address in officer_urls(pages):
        assert client.get(address).status_code == 200, address


@pytest.mark.parametrize("persona", ["alice", "eve", "frank", "bob", "uma"])
def test_officer_pages_are_forbidden_to_enterprise_and_expert_users(client, pages, persona):
    client.force_login(getattr(pages, persona))
    for address in officer_urls(pages):
        assert client.get(address).status_code == 403, address
    assert client.post(url("review-call", pages.call.pk), {"action": "propose"}).status_code == 403
    assert client.post(url("review-replace", pages.eve_on_app.pk)).status_code == 403


def test_an_anonymous_visitor_is_sent_to_log_in(client, pages):
    for address in [*officer_urls(pages), url("review-inbox")]:
        response = client.get(address)
        assert response.status_code == 302 and "next=" in response["Location"]


def test_the_expert_pool_searches_filters_pages_and_shows_conflicts(client, pages):
    ExpertConflict.objects.create(
        expert=pages.frank_expert, enterprise=pages.ent_b, kind=ConflictKind.COLLABORATION, note="联合申报"
    )
    f.make_expert("赵六", organisation="松江大学", fields=["02"], keywords="抗体 疫苗")
    for _ in range(25):
        f.make_expert(fields=["04"])
    client.force_login(pages.carol)
    page = client.get(url("review-experts")).content.decode()
    assert "共 <strong>28</strong> 名专家" in page and "第 1 / 2 页" in page
    page = client.get(url("review-experts"), {"q": "弗兰克"}).content.decode()
    assert "上海乙生物有限公司" in page and "近三年合作" in page and "联合申报" in page
    response = client.get(url("review-experts"), {"field": "02"})
    assert [e.name for e in response.context["page"].object_list] == ["赵六"]
    response = client.get(url("review-experts"), {"q": "疫苗"})
    assert [e.name for e in response.context["page"].object_list] == ["赵六"]
    response = client.get(url("review-experts"), {"q": "松江", "field": "01"})
    assert {e.name for e in response.context["page"].object_list} == {"伊娃", "弗兰克"}


def test_propose_then_confirm_writes_exactly_what_was_shown(client, pages):
    second = f.make_application(pages.call, pages.ent_b, title="脑机接口材料", field="01", keywords="材料")
    f.make_expert("材料专家", fields=["01"], keywords="材料")
    f.make_expert("甲单位专家", organisation="上海甲科技有限公司", fields=["01"], keywords="材料")
    client.force_login(pages.carol)
    response = client.post(url("review-call", pages.call.pk), {"action": "propose"})
    assert response.status_code == 200
    proposal = response.context["proposal"]
    assert set(proposal) == {second.pk}  # the first application already has its two experts
    shown = proposal.pairs()
    page = response.content.decode()
    assert "材料专家" in page and "领域匹配：电子信息；相关专长：材料；本批已分配 0 项" in page
    response = client.post(url("review-call", pages.call.pk), {"action": "confirm"}, follow=True)
    assert "已分配 2 人次评审专家，涉及 1 项申报" in response.content.decode()
    written = sorted(
        ReviewAssignment.objects.filter(application=second).values_list("application_id", "expert_id")
    )
    assert written == shown
    # Confirming again without a new proposal is refused.
    response = client.post(url("review-call", pages.call.pk), {"action": "confirm"}, follow=True)
    assert "请先生成推荐方案" in response.content.decode()


def test_a_proposal_confirmed_after_a_change_is_refused(client, pages):
    second = f.make_application(pages.call, pages.ent_b, field="01")
    f.experts(3, fields=["01"])
    client.force_login(pages.carol)
    client.post(url("review-call", pages.call.pk), {"action": "propose"})
    assignment(second, f.make_expert(fields=["01"]))  # someone else assigned meanwhile
    response = client.post(url("review-call", pages.call.pk), {"action": "confirm"}, follow=True)
    assert "推荐方案生成后评审名单或专家库已有变化" in response.content.decode()
    assert ReviewAssignment.objects.filter(application=second).count() == 1


def test_an_officer_replaces_a_withdrawn_expert(client, pages):
    spare = f.make_expert("候补", fields=["01"])
    review.declare_conflict(pages.eve_on_app, "曾任该企业顾问", pages.eve)
    client.force_login(pages.carol)
    response = client.post(url("review-replace", pages.eve_on_app.pk), follow=True)
    assert "补充 1 名专家：候补（领域匹配：电子信息" in response.content.decode()
    assert ReviewAssignment.objects.filter(application=pages.app, expert=spare, state="proposed").exists()


def test_an_expert_sees_its_own_assignments_and_scores_through_the_form(client, pages):
    client.force_login(pages.eve)
    inbox = client.get(url("review-inbox"))
    assert [a.pk for a in inbox.context["waiting"]] == [pages.eve_on_app.pk]
    detail = url("review-assignment", pages.eve_on_app.pk)
    page = client.get(detail).content.decode()
    assert "芯片封装测试平台" in page and "技术创新性" in page and "0–10 分，权重 40" in page
    client.post(url("review-accept", pages.eve_on_app.pk))
    assert ReviewAssignment.objects.get(pk=pages.eve_on_app.pk).state == "accepted"
    response = client.post(detail, {"score_innovation": "8", "score_team": "25", "score_benefit": "4"})
    assert response.status_code == 200
    assert "“团队与基础”的得分 25 超出允许范围 0–20" in response.content.decode()
    assert not Score.objects.filter(assignment=pages.eve_on_app).exists()
    response = client.post(
        detail, {"score_innovation": "8", "score_team": "15", "score_benefit": "4", "comment": "可行"}
    )
    assert response.status_code == 302
    page = client.get(detail).content.decode()
    assert "78.50" in page and "评分提交后不能修改" in page


def test_an_expert_cannot_open_another_experts_assignment(client, pages):
    client.force_login(pages.frank)
    assert client.get(url("review-assignment", pages.eve_on_app.pk)).status_code == 404
    assert client.post(url("review-accept", pages.eve_on_app.pk)).status_code == 404
    assert client.post(url("review-withdraw", pages.eve_on_app.pk), {"reason": "x"}).status_code == 404
    assert ReviewAssignment.objects.get(pk=pages.eve_on_app.pk).state == "proposed"


def test_an_expert_never_sees_an_application_it_has_a_conflict_with(client, pages):
    ExpertConflict.objects.create(
        expert=pages.eve_expert, enterprise=pages.ent_a, kind=ConflictKind.SAME_ORGANISATION
    )
    client.force_login(pages.eve)
    inbox = client.get(url("review-inbox"))
    assert inbox.context["waiting"] == [] and inbox.context["hidden"] == 1
    assert "芯片封装测试平台" not in inbox.content.decode()
    assert client.get(url("review-assignment", pages.eve_on_app.pk)).status_code == 404


def test_an_expert_declares_a_conflict_from_the_page(client, pages):
    client.force_login(pages.eve)
    response = client.post(
        url("review-withdraw", pages.eve_on_app.pk), {"reason": "本人曾在该企业任职"}, follow=True
    )
    assert "已申明回避“芯片封装测试平台”" in response.content.decode()
    assert ReviewAssignment.objects.get(pk=pages.eve_on_app.pk).state == "withdrawn"
    assert client.get(url("review-assignment", pages.eve_on_app.pk)).status_code == 404


@pytest.mark.parametrize("persona", ["alice", "bob", "uma"])
def test_expert_pages_are_forbidden_to_non_experts(client, pages, persona):
    client.force_login(getattr(pages, persona))
    assert client.get(url("review-inbox")).status_code == 403
    assert client.get(url("review-assignment", pages.eve_on_app.pk)).status_code == 403
    detail = url("review-assignment", pages.eve_on_app.pk)
    assert client.post(detail, {"score_innovation": "1"}).status_code == 403


def test_an_officer_without_an_expert_record_has_no_inbox(client, pages):
    client.force_login(pages.carol)
    assert client.get(url("review-inbox")).status_code == 404


def test_the_ranking_page_flags_outliers_and_sorts(client, pages):
    call = f.make_call(experts_per_application=3, title="排名测试")
    top, low = f.make_application(call, title="甲项目"), f.make_application(call, title="乙项目")
    pool = f.experts(3)
    for expert, share in zip(pool, ["0.9", "0.85", "0.5"], strict=True):
        scored(top, expert, share)
    for expert in pool:
        scored(low, expert, "0.6")
    client.force_login(pages.carol)
    response = client.get(url("review-ranking", call.pk))
    rows = response.context["page"].object_list
    assert [(r.application.title, r.rank) for r in rows] == [("甲项目", 1), ("乙项目", 2)]
    page = response.content.decode()
    assert f'<span class="tag bad" title="中位数 85.00">{pool[2].name} 50.00</span>' in page
    rows = client.get(url("review-ranking", call.pk), {"sort": "-spread"}).context["page"].object_list
    assert [r.application.title for r in rows] == ["甲项目", "乙项目"]
    rows = client.get(url("review-ranking", call.pk), {"sort": "spread"}).context["page"].object_list
    assert [r.application.title for r in rows] == ["乙项目", "甲项目"]
    rows = client.get(url("review-ranking", call.pk), {"sort": "bogus"}).context["page"].object_list
    assert [r.application.title for r in rows] == ["甲项目", "乙项目"]
