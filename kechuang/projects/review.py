"""评审: conflicts of interest, proposing and assigning experts, scoring, aggregation and ranking.

Conflict rule (回避). An expert may never review an application when
  (a) the expert's organisation is the applicant: the expert's 单位统一社会信用代码 equals the applying
      enterprise's USCC (both normalised: half-width, upper-case, no spaces), or the organisation's name
      equals the enterprise's name once both are normalised (NFKC, so full-width brackets （）, letters and
      digits become half-width; every space, full-width or not, removed; letters case-folded). Names are
      compared whole: "上海甲科技有限公司研究院" is not "上海甲科技有限公司";
  (b) an ExpertConflict of any kind (同一单位, 近三年合作, 本人申明回避) links the expert and the applying
      enterprise — a conflict is recorded against the enterprise, so it covers all its applications;
  (c) the expert has declared a conflict on this application (its assignment is 回避退出 / withdrawn).
`conflicts(expert, application)` gives the reasons in Chinese (empty when there is none). An expert with a
conflict is never proposed, cannot be assigned, cannot score, and does not see the application.

Proposal (`propose`). For each application of the call in one of `states` (default: formally passed or under
review) that has fewer than N = call.experts_per_application assignments still active (not withdrawn), the
missing experts are chosen among the active experts (在库) that have no conflict and are not already on it,
best first by
  1. field match — the application's 技术领域 is among the expert's fields;
  2. affinity — how close the expert's expertise is to the application, highest first: BM25 over the pool's
     专长关键词 and fields with the search engine (expert_affinity.ExpertAffinity, built once per proposal), the
     application's title, keywords and field name as the query; related terms count although no keyword is
     identical (功率器件 is close to “碳化硅功率模块封装”); an expert with nothing in common scores 0;
  3. workload — fewest assignments in this call so far: the active ones already written plus those proposed
     earlier in this batch (applications are taken in order of submission, then id);
  4. a random draw among equals from `random.Random(seed)`, one draw per candidate in expert order: the same
     seed on the same data gives the same proposal.
Each pick carries its reason ("领域匹配：电子信息；相关专长：芯片、封装；本批已分配 3 项": the application's terms the
expert shares, Affinity.reason; the count is the expert's assignments in this call before this one). When fewer
than the missing number qualify, what there is is proposed and `Proposal.notes` says so. Nothing is written:
`assign` writes a reviewed proposal.

Aggregation. An expert's total is Σ value / max × weight over the call's score sheet, scaled by 100 / Σ weight
(weights are meant to sum to 100, when the scaling is 1), so 0–100, rounded half-up to 0.01. An application's
score is the trimmed mean of its submitted totals: with at least TRIM_FROM (5) totals the single highest and
the single lowest are dropped, otherwise the plain mean; rounded half-up to 0.01. A total is an outlier when it
differs from the median of the application's totals by more than OUTLIER_POINTS (20) points — exactly 20 is
not an outlier. A call's ranking orders scored applications by that score, highest first, ties broken by the
application's submission time (earlier first) and then its id; unscored applications come last, unranked.

Every refusal is a ValidationError whose Chinese message names the field and the value; nothing is saved when
any is found.
"""

from __future__ import annotations

import hashlib
import heapq
import random
import re
import statistics
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from kechuang.core import uscc
from kechuang.enterprises.choices import HitechField
from kechuang.projects.expert_affinity import Affinity, ExpertAffinity
from kechuang.projects.models import (
    Application,
    AssignmentState,
    Call,
    ConflictKind,
    Expert,
    ExpertConflict,
    ReviewAssignment,
    Score,
)

DEFAULT_STATES = ("formally_passed", "under_review")
TRIM_FROM = 5  # with at least this many totals, the highest and the lowest are dropped
OUTLIER_POINTS = Decimal("20")  # a total further than this from the median is flagged
CENT = Decimal("0.01")
FIELD_LABELS = dict(HitechField.choices)
SPACES = re.compile(r"\s+")

ACTIVE = (AssignmentState.PROPOSED, AssignmentState.ACCEPTED, AssignmentState.SUBMITTED)


# —— 回避 ——————————————————————————————————————————————————————————————————————————————————————————————


def normalise_name(name: str) -> str:
    """An organisation's name for comparison: NFKC (full-width brackets, letters, digits → half-width), no
    spaces, case-folded."""
    return SPACES.sub("", unicodedata.normalize("NFKC", name or "")).casefold()


def field_label(code: str) -> str:
    return FIELD_LABELS.get(code, code)


class ConflictIndex:
    """The conflicts between some experts and some applications, read in three queries and answered from
    dicts (no query per pair)."""

    def __init__(self, experts: Iterable[Expert], applications: Iterable[Application]):
        self.experts = {e.pk: e for e in experts}
        applications = list(applications)
        self.by_code: dict[str, set[int]] = defaultdict(set)
        self.by_name: dict[str, set[int]] = defaultdict(set)
        self.codes: dict[int, str] = {}
        self.names: dict[int, str] = {}
        for expert in self.experts.values():
            code = self.codes[expert.pk] = uscc.normalise(expert.organisation_code)
            if code:
                self.by_code[code].add(expert.pk)
            name = self.names[expert.pk] = normalise_name(expert.organisation)
            if name:
                self.by_name[name].add(expert.pk)
        enterprise_ids = {a.enterprise_id for a in applications}
        # (b): recorded conflicts, per enterprise: expert id → [(kind label, note)].
        self.recorded: dict[int, dict[int, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
        if enterprise_ids and self.experts:
            labels = dict(ConflictKind.choices)
            rows = ExpertConflict.objects.filter(enterprise_id__in=enterprise_ids).values_list(
                "expert_id", "enterprise_id", "kind", "note"
            )
            for expert_id, enterprise_id, kind, note in rows.order_by("pk"):
                if expert_id in self.experts:
                    self.recorded[enterprise_id][expert_id].append((labels.get(kind, kind), note))
        # (c): withdrawals on the applications, application id → {expert id: the reason given}.
        self.withdrawn: dict[int, dict[int, str]] = defaultdict(dict)
        application_ids = [a.pk for a in applications]
        if application_ids:
            rows = ReviewAssignment.objects.filter(
                application_id__in=application_ids, state=AssignmentState.WITHDRAWN
            ).values_list("application_id", "expert_id", "comment")
            for application_id, expert_id, comment in rows:
                self.withdrawn[application_id][expert_id] = comment

    def blocked(self, application: Application) -> set[int]:
        """The ids of the experts (of this index) that have any conflict with the application."""
        enterprise = application.enterprise
        found = set(self.by_code.get(uscc.normalise(enterprise.uscc), ()))
        found |= self.by_name.get(normalise_name(enterprise.name), set())
        found |= self.recorded.get(enterprise.pk, {}).keys()
        found |= self.withdrawn.get(application.pk, {}).keys()
        return found

    def reasons(self, expert: Expert, application: Application) -> list[str]:
        enterprise = application.enterprise
        reasons = []
        code = self.codes.get(expert.pk)
        if code is None:  # an expert this index was not built with
            code = uscc.normalise(expert.organisation_code)
        name = self.names.get(expert.pk)
        if name is None:
            name = normalise_name(expert.organisation)
        if code and code == uscc.normalise(enterprise.uscc):
            reasons.append(f"工作单位即申报单位（统一社会信用代码 {code}）")
        elif name and name == normalise_name(enterprise.name):
            reasons.append(f"工作单位“{expert.organisation}”即申报单位“{enterprise.name}”")
        for label, note in self.recorded.get(enterprise.pk, {}).get(expert.pk, []):
            reasons.append(f"与{enterprise.name}存在回避关系：{label}" + (f"（{note}）" if note else ""))
        if expert.pk in self.withdrawn.get(application.pk, {}):
            said = self.withdrawn[application.pk][expert.pk]
            reasons.append("本人已申明回避本项目" + (f"：{said}" if said else ""))
        return reasons


def conflicts(expert: Expert, application: Application) -> list[str]:
    """Why `expert` may not review `application`, in Chinese (empty when it may)."""
    return ConflictIndex([expert], [application]).reasons(expert, application)


# —— 推荐 ——————————————————————————————————————————————————————————————————————————————————————————————


class Proposal(dict):
    """application id → [(expert, reason)], best first; `notes` application id → why fewer than needed were
    proposed; `applications` application id → the application; `seed` the seed used."""

    def __init__(self, seed: Any = None):
        super().__init__()
        self.seed = seed
        self.notes: dict[int, str] = {}
        self.applications: dict[int, Application] = {}
        self.already: dict[int, int] = {}  # application id → active assignments before this proposal

    def pairs(self) -> list[tuple[int, int]]:
        return sorted((app_id, expert.pk) for app_id, picks in self.items() for expert, _ in picks)

    def digest(self) -> str:
        """A fingerprint of the pairs, to check that a proposal confirmed later is the one that was shown."""
        text = ";".join(f"{a}:{e}" for a, e in self.pairs())
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def count(self) -> int:
        return sum(len(picks) for picks in self.values())


def _reason(field_code: str, matched: bool, affinity: Affinity, load: int) -> str:
    field_name = field_label(field_code)
    parts = [f"领域匹配：{field_name}" if matched else "领域不同"]
    # The field's own name is among the shared terms of every in-field expert: saying it again reads as expertise.
    terms = [term for term in affinity.terms if term not in field_name]
    parts.append("相关专长：" + "、".join(terms) if terms else "专长无相关词")
    parts.append(f"本批已分配 {load} 项")
    return "；".join(parts)


def _applications(call: Call, states: Sequence[str], only: Iterable[int] | None = None):
    queryset = Application.objects.filter(call=call, state__in=list(states)).select_related("enterprise")
    if only is not None:
        queryset = queryset.filter(pk__in=list(only))
    return list(
        queryset.only(
            "pk", "title", "field", "keywords", "submitted_at", "state", "call_id", "enterprise_id",
            "enterprise__id", "enterprise__uscc", "enterprise__name",
        ).order_by("submitted_at", "pk")
    )  # fmt: skip


def propose(
    call: Call,
    *,
    seed: Any = None,
    states: Sequence[str] = DEFAULT_STATES,
    applications: Iterable[int] | None = None,
) -> Proposal:
    """The experts to add to each application of `call` in `states` (or only those of `applications`, by id),
    chosen by the rule in this module's docstring. Nothing is written."""
    rng = random.Random(seed)
    proposal = Proposal(seed)
    apps = _applications(call, states, applications)
    if not apps:
        return proposal
    experts = list(
        Expert.objects.filter(active=True)
        .only("pk", "name", "organisation", "organisation_code", "fields", "keywords")
        .order_by("pk")
    )
    index = ConflictIndex(experts, apps)
    affinity = ExpertAffinity(experts)  # the pool indexed once; each application is a query
    position = {e.pk: i for i, e in enumerate(experts)}
    rows = [affinity.row_of[e.pk] for e in experts]  # the affinity's row of each expert
    by_field: dict[str, set[int]] = defaultdict(set)
    for i, expert in enumerate(experts):
        for code in expert.fields or []:
            by_field[str(code)].add(i)
    load = [0] * len(experts)
    on: dict[int, set[int]] = defaultdict(set)  # application id → expert ids active on it
    for app_id, expert_id in ReviewAssignment.objects.filter(
        application__call=call, state__in=ACTIVE
    ).values_list("application_id", "expert_id"):
        on[app_id].add(expert_id)
        if expert_id in position:
            load[position[expert_id]] += 1
    needed = call.experts_per_application
    everyone = range(len(experts))
    for app in apps:
        proposal.already[app.pk] = len(on[app.pk])
        missing = needed - len(on[app.pk])
        if missing <= 0:
            continue
        proposal.applications[app.pk] = app
        excluded = {position[e] for e in index.blocked(app) | on[app.pk] if e in position}
        in_field = by_field.get(app.field, set()) if app.field else set()
        query = affinity.query(app)
        close = affinity.vector(app, query)[rows].tolist()  # by expert, as `experts`
        # One draw per candidate, in expert order: the same seed and data give the same picks. Only the best
        # `missing` are needed: a heap of the keys rather than sorting the whole pool.
        keys = [
            (i not in in_field, -close[i], load[i], rng.random(), i) for i in everyone if i not in excluded
        ]
        chosen = [experts[key[-1]] for key in heapq.nsmallest(missing, keys)]
        explained = affinity.explain(
            app, [e.pk for e in chosen], query=query, scores={e.pk: close[position[e.pk]] for e in chosen}
        )
        picks = []
        for expert in chosen:
            i = position[expert.pk]
            picks.append((expert, _reason(app.field, i in in_field, explained[expert.pk], load[i])))
            load[i] += 1
        proposal[app.pk] = picks
        if len(picks) < missing:
            proposal.notes[app.pk] = (
                f"可选专家不足：还需 {missing} 名，无回避关系的在库专家仅 {len(picks)} 名"
                + ("，请扩充专家库" if not picks else "，已全部推荐，请补充专家")
            )
    return proposal


# —— 分配、回避、补充 ——————————————————————————————————————————————————————————————————————————————————


def _expert_of(value: Any) -> int:
    return value.pk if isinstance(value, Expert) else int(value)


@transaction.atomic
def assign(
    call: Call, proposals: Mapping[int, Sequence[tuple[Any, str]]], user=None
) -> list[ReviewAssignment]:
    """Write the proposed assignments (state 拟邀请), in bulk; every pair checked again first (belongs to the
    call, expert in the pool, no conflict, not already on the application, at most N per application).
    Refused with every problem named; nothing is written then."""
    Call.objects.select_for_update().filter(pk=call.pk).first()  # one assignment of a call at a time
    wanted = [
        (int(app_id), _expert_of(e), reason or "")
        for app_id, picks in proposals.items()
        for e, reason in picks
    ]
    if not wanted:
        raise ValidationError({"assignments": "没有要分配的专家"})
    app_ids = {a for a, _, _ in wanted}
    apps = {
        a.pk: a for a in Application.objects.filter(call=call, pk__in=app_ids).select_related("enterprise")
    }
    experts = {e.pk: e for e in Expert.objects.filter(pk__in={e for _, e, _ in wanted})}
    index = ConflictIndex(experts.values(), apps.values())
    existing: dict[int, dict[int, str]] = defaultdict(dict)
    for app_id, expert_id, state in ReviewAssignment.objects.filter(application_id__in=app_ids).values_list(
        "application_id", "expert_id", "state"
    ):
        existing[app_id][expert_id] = state
    blocked_by_app: dict[int, set[int]] = {}

    def blocked(app: Application) -> set[int]:
        if app.pk not in blocked_by_app:
            blocked_by_app[app.pk] = index.blocked(app)
        return blocked_by_app[app.pk]

    problems, seen = [], set()
    added: Counter[int] = Counter()
    for app_id, expert_id, _ in wanted:
        app, expert = apps.get(app_id), experts.get(expert_id)
        if app is None:
            problems.append(f"申报 {app_id} 不属于申报批次“{call.title}”")
            continue
        if expert is None:
            problems.append(f"专家 {expert_id} 不存在")
            continue
        where = f"专家{expert.name}与“{app.title}”"
        if not expert.active:
            problems.append(f"专家{expert.name}已不在库，不能分配")
        reasons = index.reasons(expert, app) if expert_id in blocked(app) else []
        if reasons:
            problems.append(f"{where}存在回避关系：{'；'.join(reasons)}，不能分配")
        elif expert_id in existing[app_id] or (app_id, expert_id) in seen:
            problems.append(f"{where}：已在评审名单中，不能重复分配")
        seen.add((app_id, expert_id))
        added[app_id] += 1
    for app_id, count in added.items():
        active = sum(1 for state in existing[app_id].values() if state in ACTIVE)
        if app_id in apps and active + count > call.experts_per_application:
            problems.append(
                f"“{apps[app_id].title}”已有 {active} 名专家，再分配 {count} 名将超过每项评审专家数 "
                f"{call.experts_per_application}"
            )
    if problems:
        raise ValidationError({"assignments": problems})
    rows = [
        ReviewAssignment(application_id=a, expert_id=e, state=AssignmentState.PROPOSED, reason=r[:300])
        for a, e, r in wanted
    ]
    try:
        with transaction.atomic():
            return ReviewAssignment.objects.bulk_create(rows, batch_size=1000)
    except IntegrityError:
        raise ValidationError({"assignments": "评审名单已被他人修改，请重新生成推荐方案"}) from None


def _may_act_for(assignment: ReviewAssignment, user) -> bool:
    """The expert's own account, or an officer who keeps assignments (代为办理)."""
    if user is None:
        return True  # a system call (tests, commands)
    return assignment.expert.user_id == user.pk or user.has_perm("projects.change_reviewassignment")


def _locked(assignment: ReviewAssignment) -> ReviewAssignment:
    return (
        ReviewAssignment.objects.select_for_update()
        .select_related("expert", "application__call", "application__enterprise")
        .get(pk=assignment.pk)
    )


@transaction.atomic
def accept(assignment: ReviewAssignment, user=None) -> ReviewAssignment:
    current = _locked(assignment)
    if not _may_act_for(current, user):
        raise ValidationError({"expert": "只有受邀专家本人可以接受评审"})
    if current.state != AssignmentState.PROPOSED:
        raise ValidationError({"state": f"评审状态为“{current.get_state_display()}”，不能接受"})
    reasons = conflicts(current.expert, current.application)
    if reasons:
        raise ValidationError({"expert": f"存在回避关系：{'；'.join(reasons)}，不能评审"})
    current.state = AssignmentState.ACCEPTED
    current.save(update_fields=["state"])
    return current


@transaction.atomic
def declare_conflict(assignment: ReviewAssignment, reason: str, user=None) -> ReviewAssignment:
    """The expert withdraws from the application: the assignment becomes 回避退出 (with the reason), and an
    ExpertConflict of kind 本人申明回避 is recorded against the applying enterprise (so the expert is not
    proposed for its other applications either). A replacement can then be proposed (`replace`)."""
    reason = (reason or "").strip()
    current = _locked(assignment)
    if not _may_act_for(current, user):
        raise ValidationError({"expert": "只有受邀专家本人可以申明回避"})
    if not reason:
        raise ValidationError({"reason": "申明回避须说明原因"})
    if len(reason) > 300:
        raise ValidationError({"reason": f"回避原因不能超过 300 个字（现 {len(reason)} 个字）"})
    if current.state == AssignmentState.WITHDRAWN:
        raise ValidationError({"state": "已申明回避，无需重复申明"})
    if current.state == AssignmentState.SUBMITTED:
        raise ValidationError({"state": "已提交评分，不能再申明回避；如确有回避情形，请联系科委工作人员"})
    current.state = AssignmentState.WITHDRAWN
    current.comment = reason
    current.save(update_fields=["state", "comment"])
    found = ExpertConflict.objects.filter(
        expert=current.expert, enterprise=current.application.enterprise, kind=ConflictKind.DECLARED
    ).first()
    note = f"评审“{current.application.title}”时申明：{reason}"[:300]
    if found is None:
        ExpertConflict.objects.create(
            expert=current.expert,
            enterprise=current.application.enterprise,
            kind=ConflictKind.DECLARED,
            note=note,
        )
    return current


def replace(assignment: ReviewAssignment, *, seed: Any = None) -> Proposal:
    """A proposal for the application of a withdrawn assignment: the experts still missing, chosen by the same
    rule as `propose` (whatever the application's state). Nothing is written; confirm with `assign`."""
    if assignment.state != AssignmentState.WITHDRAWN:
        raise ValidationError({"state": f"评审状态为“{assignment.get_state_display()}”，无需补充专家"})
    app = assignment.application
    return propose(app.call, seed=seed, states=[app.state], applications=[app.pk])


# —— 评分 ——————————————————————————————————————————————————————————————————————————————————————————————


@dataclass(frozen=True)
class Criterion:
    key: str
    label: str
    max: Decimal
    weight: Decimal


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def criteria(call: Call) -> list[Criterion]:
    """The call's score sheet, checked: refused (naming the item) when an item has no key, a maximum ≤ 0 or a
    negative weight, or when the weights sum to 0."""
    sheet = call.score_sheet or []
    if not sheet:
        raise ValidationError({"score_sheet": f"申报批次“{call.title}”尚未设置评分表"})
    found = []
    for number, item in enumerate(sheet, 1):
        key = str(item.get("key") or "")
        label = item.get("label") or key
        top, weight = _decimal(item.get("max")), _decimal(item.get("weight"))
        if not key:
            raise ValidationError({"score_sheet": f"评分表第 {number} 项没有 key"})
        if top is None or top <= 0:
            raise ValidationError(
                {"score_sheet": f"评分表“{label}”的满分 {item.get('max')!r} 无效（须大于 0）"}
            )
        if weight is None or weight < 0:
            raise ValidationError(
                {"score_sheet": f"评分表“{label}”的权重 {item.get('weight')!r} 无效（须不小于 0）"}
            )
        found.append(Criterion(key, label, top, weight))
    if sum(c.weight for c in found) <= 0:
        raise ValidationError({"score_sheet": "评分表的权重之和须大于 0"})
    return found


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")


def score_errors(sheet: Sequence[Criterion], values: Mapping[str, Any]) -> dict[str, str]:
    """What is wrong with the values of one expert's score sheet, criterion by criterion."""
    errors: dict[str, str] = {}
    known = {c.key for c in sheet}
    for key in values:
        if key not in known:
            errors[str(key)] = (
                f"评分表中没有评分项“{key}”（得分 {values[key]}），评分项为 {'、'.join(c.key for c in sheet)}"
            )
    for c in sheet:
        raw = values.get(c.key)
        allowed = f"0–{_plain(c.max)}"
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            errors[c.key] = f"未填写“{c.label}”的得分（允许 {allowed}）"
            continue
        number = _decimal(raw)
        if number is None:
            errors[c.key] = f"“{c.label}”的得分“{raw}”不是数字（允许 {allowed}）"
        elif not 0 <= number <= c.max:
            errors[c.key] = f"“{c.label}”的得分 {_plain(number)} 超出允许范围 {allowed}"
        elif number != number.quantize(CENT):
            errors[c.key] = f"“{c.label}”的得分 {_plain(number)} 最多保留两位小数"
    return errors


@transaction.atomic
def submit_scores(
    assignment: ReviewAssignment, values: Mapping[str, Any], comment: str = "", user=None
) -> ReviewAssignment:
    """Record one expert's scores for one application, once. Refused (nothing saved) for an expert with a
    conflict, a withdrawn or already submitted assignment, an unknown or missing criterion, or a value outside
    0..max of the call's score sheet."""
    current = _locked(assignment)
    application = current.application
    if not _may_act_for(current, user):
        raise ValidationError({"expert": "只有受邀专家本人可以提交评分"})
    if current.state == AssignmentState.WITHDRAWN:
        raise ValidationError({"state": "已申明回避退出本项目评审，不能评分"})
    reasons = conflicts(current.expert, application)
    if reasons:
        raise ValidationError({"expert": f"存在回避关系：{'；'.join(reasons)}，不能评审"})
    if current.state == AssignmentState.SUBMITTED:
        when = (
            f"于 {timezone.localtime(current.submitted_at):%Y-%m-%d %H:%M} " if current.submitted_at else ""
        )
        raise ValidationError({"state": f"已{when}提交评分，不能重复提交"})
    sheet = criteria(application.call)
    errors = score_errors(sheet, values)
    if errors:
        raise ValidationError(errors)
    Score.objects.bulk_create(
        [Score(assignment=current, criterion=c.key, value=_decimal(values[c.key])) for c in sheet]
    )
    current.state = AssignmentState.SUBMITTED
    current.comment = (comment or "").strip()
    current.submitted_at = timezone.now()
    current.total = weighted_total(sheet, values)
    current.save(update_fields=["state", "comment", "submitted_at", "total"])
    return current


# —— 汇总与排名 ————————————————————————————————————————————————————————————————————————————————————————


def weighted_total(sheet: Sequence[Criterion], values: Mapping[str, Any]) -> Decimal:
    """Σ value / max × weight, scaled by 100 / Σ weight (1 when the weights sum to 100): 0–100, to 0.01."""
    total, weights = Decimal(0), Decimal(0)
    for c in sheet:
        weights += c.weight
        value = values.get(c.key)
        if value is None:
            continue
        if not isinstance(value, Decimal):
            value = _decimal(value) or Decimal(0)
        total += value * c.weight / c.max
    return (total * 100 / weights).quantize(CENT, ROUND_HALF_UP)


@dataclass
class Aggregate:
    totals: list[Decimal]
    mean: Decimal | None  # the trimmed mean (or the plain mean under TRIM_FROM totals)
    median: Decimal | None
    low: Decimal | None
    high: Decimal | None
    trimmed: bool
    outliers: list[bool] = field(default_factory=list)  # per total, in the order given

    @property
    def n(self) -> int:
        return len(self.totals)

    @property
    def spread(self) -> Decimal | None:
        return None if self.low is None else self.high - self.low


def is_outlier(total: Decimal, median: Decimal) -> bool:
    return abs(total - median) > OUTLIER_POINTS


def aggregate(totals: Sequence[Decimal]) -> Aggregate:
    """The trimmed mean of the totals (drop the highest and the lowest when there are ≥ TRIM_FROM), and which
    are outliers (more than OUTLIER_POINTS from the median)."""
    totals = list(totals)
    if not totals:
        return Aggregate([], None, None, None, None, False, [])
    ordered = sorted(totals)
    trimmed = len(ordered) >= TRIM_FROM
    kept = ordered[1:-1] if trimmed else ordered
    mean = (sum(kept, Decimal(0)) / len(kept)).quantize(CENT, ROUND_HALF_UP)
    median = statistics.median(ordered)
    return Aggregate(
        totals, mean, median, ordered[0], ordered[-1], trimmed, [is_outlier(t, median) for t in totals]
    )


def ranking_key(mean: Decimal | None, submitted_at, pk: int) -> tuple:
    """Highest score first; ties by submission time (earlier first), then id; unscored last."""
    when = submitted_at.timestamp() if submitted_at else float("inf")
    return (mean is None, -(mean or 0), when, pk)
