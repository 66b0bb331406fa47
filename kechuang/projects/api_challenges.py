"""The 揭榜挂帅 API (mounted at /api/challenges): the challenges a user may see (list with search, filters, sort and
pages; one with the answers the user may see), posting a challenge and taking its workflow steps, answering,
reviewing, and the ranking.

The same rules as the pages (kechuang/projects/challenges.py): anyone logged in sees the published challenges
(揭榜中 and after), the poster's users theirs in every state, officers all; another's draft is not found (404).
Posting needs projects.add_challenge and a user of the poster, answering projects.add_challengeanswer,
reviewing projects.add_challengereview and being the poster's user or an invited expert (403 otherwise); the
ranking is for officers and the poster. Money in yuan as decimal strings. A refusal of the services is 422 in the
project's format (kechuang.core.api_errors), with the field and the Chinese reason; nothing is saved then.
"""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import Field

from kechuang.core import api_errors as errors
from kechuang.core.api_errors import Message, ValidationErrors
from kechuang.enterprises.models import Enterprise
from kechuang.projects import challenge_selectors as selectors
from kechuang.projects import challenges
from kechuang.projects.models import Challenge, ChallengeAnswer
from kechuang.workflows import engine

router = Router(tags=["揭榜挂帅"])

MAX_LIMIT = 500
R401 = {401: Message}
GUARDED = {**R401, 403: Message}
ONE = {**GUARDED, 404: Message}
WRITE = {**ONE, 422: ValidationErrors}
NOT_FOUND = "榜单不存在或无权查看"


# —— schemas ——————————————————————————————————————————————————————————————————————————————————————————————


class ChallengeOut(Schema):
    id: int
    title: str
    description: str = Field(description="技术难题")
    field: str = Field(description="高新技术领域代码（01–08），空为未填")
    field_label: str
    keywords: str
    poster_id: int
    poster_name: str
    budget: Decimal = Field(description="榜单金额，单位：元（发榜单位自筹投入）")
    subsidy_cap: Decimal = Field(description="区级资助上限，单位：元；0 为不申请区级资助")
    deadline: dt.datetime = Field(description="揭榜截止时间（含该时刻）")
    state: str
    state_label: str
    answer_count: int = Field(description="有效（未撤回）的揭榜方案数")
    winner_id: int | None
    application_id: int | None = Field(description="中选方案转成的项目申报")
    created_at: dt.datetime

    @staticmethod
    def resolve_field_label(obj) -> str:
        return challenges.field_label(obj.field) if obj.field else ""

    @staticmethod
    def resolve_poster_name(obj) -> str:
        return obj.poster.name

    @staticmethod
    def resolve_state_label(obj) -> str:
        return engine.state_label(obj)

    @staticmethod
    def resolve_answer_count(obj) -> int:
        found = getattr(obj, "answer_count", None)
        return found if found is not None else obj.answers.filter(withdrawn=False).count()


class AnswerOut(Schema):
    id: int
    challenge_id: int
    enterprise_id: int | None = Field(description="揭榜企业（企业库）；企业库外的单位为 null")
    organisation: str = Field(description="企业库外的揭榜单位名称")
    unit: str = Field(description="揭榜单位名称")
    leader: str
    members: str
    proposal: str
    quoted_amount: Decimal = Field(description="报价，单位：元")
    period_months: int
    submitted_at: dt.datetime
    withdrawn: bool

    @staticmethod
    def resolve_unit(obj) -> str:
        return obj.unit_name


class ScoredAnswerOut(AnswerOut):
    poster_score: Decimal | None = Field(None, description="发榜单位评分（多人时为平均）；无权查看时为 null")
    expert_score: Decimal | None = Field(None, description="专家评分均值；无权查看时为 null")
    final: Decimal | None = Field(None, description="综合得分 = 0.5 × 发榜单位评分 + 0.5 × 专家评分均值")
    rank: int | None = None
    my_score: Decimal | None = Field(None, description="当前用户对该方案的评分")


class ChallengeDetailOut(ChallengeOut):
    answers: list[ScoredAnswerOut] = Field(description="当前用户可见的揭榜方案")
    steps: list[str] = Field(description="当前用户现在可以办理的流程操作（name）")

    @staticmethod
    def resolve_answers(obj, context) -> list[ChallengeAnswer]:
        return _answers(obj, context["request"].user)

    @staticmethod
    def resolve_steps(obj, context) -> list[str]:
        return [o.name for o in engine.options(obj, context["request"].user) if o.allowed]


class ChallengeIn(Schema):
    poster_id: int | None = Field(None, description="发榜单位；不填为本账号关联的唯一企业")
    title: str
    description: str
    field: str = ""
    keywords: str = ""
    budget: str = Field(description="榜单金额，单位：元，十进制字符串")
    subsidy_cap: str = Field("0", description="区级资助上限，单位：元；0 为不申请")
    deadline: dt.datetime


class ChallengeStepIn(Schema):
    reason: str = Field("", description="说明；退回修改时必填")


class AnswerIn(Schema):
    enterprise_id: int | None = Field(None, description="揭榜企业；不填为本账号关联的唯一企业")
    organisation: str = Field("", description="未关联企业的账号（高校、院所）填写揭榜单位名称")
    leader: str
    members: str = ""
    proposal: str
    quoted_amount: str = Field(description="报价，单位：元，十进制字符串；不超过榜单金额")
    period_months: int = Field(description="实施周期（月），1–120")


class ReviewIn(Schema):
    score: str = Field(description="得分 0–100，最多两位小数，十进制字符串")
    comment: str = ""


class ReviewOut(Schema):
    id: int
    answer_id: int
    role: str = Field(description="poster 发榜单位 / expert 专家")
    score: Decimal
    comment: str
    reviewed_at: dt.datetime


class RankRowOut(Schema):
    answer_id: int
    unit: str
    leader: str
    rank: int | None = Field(description="名次；未完成阅卷的为 null")
    poster_score: Decimal | None
    expert_score: Decimal | None
    expert_count: int
    final: Decimal | None
    missing: str = Field(description="尚缺的评分，如“专家评分”；已完成阅卷为空")


class RankingOut(Schema):
    challenge_id: int
    rule: str
    winner_id: int | None
    rows: list[RankRowOut]


class ChallengeQuery(Schema):
    q: str = Field("", description="搜索榜单名称、技术难题、关键词、发榜单位")
    field: str = Field("", description="高新技术领域代码")
    state: str = Field("", description="状态；默认 published（揭榜中），all 为可见的全部状态")
    sort: str = Field(
        "deadline", description="deadline、budget、subsidy、answers、created、title，前加 - 为倒序"
    )
    mine: bool = Field(False, description="只看本账号关联企业发布的榜单（含草稿）")


# —— helpers ——————————————————————————————————————————————————————————————————————————————————————————————


def _challenge(request, challenge_id: int) -> Challenge:
    try:
        return challenges.challenge_for_user(request.user, challenge_id)
    except Challenge.DoesNotExist:
        raise Http404(NOT_FOUND) from None


def _enterprise(request, enterprise_id: int | None, field: str) -> Enterprise | None:
    """An enterprise the user acts for, or 422 naming those it may use."""
    if enterprise_id is None:
        return None
    found = challenges.acting_enterprises(request.user).filter(pk=enterprise_id).first()
    if found is None:
        mine = "、".join(f"{e.pk}（{e.name}）" for e in challenges.acting_enterprises(request.user)) or "无"
        raise errors.FieldErrors(
            [
                {
                    "field": field,
                    "message": f"企业 {enterprise_id} 不是本账号关联的企业，只能以关联企业的名义办理（可用：{mine}）",
                    "code": "invalid",
                }
            ]
        )
    return found


def _answers(challenge: Challenge, user) -> list[ChallengeAnswer]:
    """The answers the user may see, each with its scores for those who see every answer (the poster, officers;
    None for anyone else) and the user's own score."""
    see_all = challenges.may_see_all_answers(user, challenge)
    mine = selectors.my_reviews(user, challenge)
    found = []
    for row in selectors.answer_rows(challenge, user):
        answer = row.answer
        answer.poster_score = row.poster_score if see_all else None
        answer.expert_score = row.expert_score if see_all else None
        answer.final = row.final if see_all else None
        answer.rank = row.rank if see_all else None
        answer.my_score = mine[answer.pk].score if answer.pk in mine else None
        found.append(answer)
    return found


# —— challenges ———————————————————————————————————————————————————————————————————————————————————————————


@router.get(
    "",
    response={200: list[ChallengeOut], **R401, 422: ValidationErrors},
    summary="榜单列表（榜单大厅）",
    operation_id="challenge_list",
)
@paginate(LimitOffsetPagination, max_limit=MAX_LIMIT)
def challenge_list(request, query: Query[ChallengeQuery]):
    """已发布的榜单（默认揭榜中），可搜索、按技术领域和状态筛选、排序，分页（limit/offset）。
    `mine=true` 为本账号关联企业发布的全部榜单（含草稿、待审核）；科委业务人员可按任意状态查看全部榜单。"""
    user = request.user
    if query.mine:
        filters = selectors.ChallengeFilters.from_params(
            {"q": query.q, "field": query.field, "state": query.state or "all", "sort": query.sort}
        )
        return selectors.posted_by(user, filters)
    if user.has_perm(challenges.MANAGE):
        filters = selectors.ChallengeFilters.from_params(
            {"q": query.q, "field": query.field, "state": query.state, "sort": query.sort},
            default_state=selectors.HALL_DEFAULT_STATE,
        )
        return selectors.queue(filters)
    filters = selectors.ChallengeFilters.from_params(
        {"q": query.q, "field": query.field, "state": query.state, "sort": query.sort},
        default_state=selectors.HALL_DEFAULT_STATE,
        allowed_states=selectors.public_states(),
    )
    return selectors.hall(filters)


@router.get(
    "/{int:challenge_id}",
    response={200: ChallengeDetailOut, **ONE},
    summary="一个榜单（含当前用户可见的揭榜方案）",
    operation_id="challenge_retrieve",
)
def challenge_retrieve(request, challenge_id: int):
    """发榜单位和科委业务人员看到全部揭榜方案及评分；受邀专家在阅卷开始后看到可评审的方案（有回避关系的不可见）；
    揭榜单位只看到本单位的方案。"""
    return _challenge(request, challenge_id)


@router.post(
    "",
    response={201: ChallengeOut, **GUARDED, 422: ValidationErrors},
    summary="发榜（出题，保存为草稿）",
    operation_id="challenge_create",
)
def challenge_create(request, payload: ChallengeIn):
    """以本账号关联的企业发榜，保存为草稿；再用 POST /{challenge_id}/steps/submit 提交科委审核。"""
    if not request.user.has_perm(challenges.POST):
        raise PermissionDenied("无权发榜（需企业用户账号）")
    poster = _enterprise(request, payload.poster_id, "poster_id")
    if poster is None:
        acting = list(challenges.acting_enterprises(request.user)[:2])
        if len(acting) != 1:
            raise errors.FieldErrors(
                [
                    {
                        "field": "poster_id",
                        "message": "请指定发榜单位（本账号关联多家企业）"
                        if acting
                        else "本账号未关联企业，不能发榜",
                        "code": "missing",
                    }
                ]
            )
        poster = acting[0]
    values = payload.model_dump(exclude={"poster_id"})
    created = challenges.challenge_create(poster=poster, user=request.user, **values)
    return Status(201, challenges.challenge_for_user(request.user, created.pk))


@router.post(
    "/{int:challenge_id}/steps/{name}",
    response={200: ChallengeOut, **WRITE},
    summary="办理榜单的流程操作（提交审核、发布、退回、撤榜、截止、开始阅卷、流榜、归档）",
    operation_id="challenge_step",
)
def challenge_step(request, challenge_id: int, name: str, payload: ChallengeStepIn):
    """可办理的操作见榜单详情的 `steps`。定榜请用 POST /{challenge_id}/winner。"""
    challenge = _challenge(request, challenge_id)
    if name == "decide":
        raise errors.FieldErrors(
            [{"field": "name", "message": "定榜请选定中选方案（POST /winner）", "code": "invalid"}]
        )
    challenges.challenge_take(challenge, name, user=request.user, reason=payload.reason)
    return challenges.challenge_for_user(request.user, challenge.pk)


# —— answers and reviews ——————————————————————————————————————————————————————————————————————————————————


@router.post(
    "/{int:challenge_id}/answers",
    response={201: AnswerOut, **WRITE},
    summary="揭榜（答题）",
    operation_id="challenge_answer",
)
def challenge_answer(request, challenge_id: int, payload: AnswerIn):
    """揭榜中且未过截止时间（含截止时刻）才可揭榜；发榜单位不能揭自己的榜；同一单位（企业库外单位按名称和负责人）
    只能揭榜一次。"""
    challenge = _challenge(request, challenge_id)
    if not request.user.has_perm(challenges.ANSWER):
        raise PermissionDenied("无权揭榜")
    enterprise = _enterprise(request, payload.enterprise_id, "enterprise_id")
    values = payload.model_dump(exclude={"enterprise_id"})
    answer = challenges.answer_submit(challenge, user=request.user, enterprise=enterprise, **values)
    return Status(201, answer)


@router.post(
    "/answers/{int:answer_id}/withdraw",
    response={200: AnswerOut, **WRITE},
    summary="撤回揭榜方案",
    operation_id="challenge_answer_withdraw",
)
def answer_withdraw(request, answer_id: int):
    answer = ChallengeAnswer.objects.filter(pk=answer_id).first()
    if answer is None:
        raise Http404("揭榜方案不存在或无权查看")
    challenge = _challenge(request, answer.challenge_id)
    if answer.pk not in {a.pk for a in challenges.answers_visible_to(request.user, challenge)}:
        raise Http404("揭榜方案不存在或无权查看")
    return challenges.answer_withdraw(answer, user=request.user)


@router.post(
    "/answers/{int:answer_id}/reviews",
    response={201: ReviewOut, **WRITE},
    summary="阅卷评分",
    operation_id="challenge_review",
)
def answer_review(request, answer_id: int, payload: ReviewIn):
    """阅卷中的榜单，发榜单位的用户和受邀专家每人对每份方案评分一次（0–100）；与揭榜单位或发榜单位有回避关系的专家
    不能评审（也看不到该方案：404）。"""
    answer = ChallengeAnswer.objects.filter(pk=answer_id).first()
    if answer is None:
        raise Http404("揭榜方案不存在或无权查看")
    challenge = _challenge(request, answer.challenge_id)
    if answer.pk not in {a.pk for a in challenges.answers_visible_to(request.user, challenge)}:
        raise Http404("揭榜方案不存在或无权查看")
    review = challenges.review_submit(answer, user=request.user, score=payload.score, comment=payload.comment)
    return Status(201, review)


# —— ranking ——————————————————————————————————————————————————————————————————————————————————————————————


@router.get(
    "/{int:challenge_id}/ranking",
    response={200: RankingOut, **ONE},
    summary="阅卷排名",
    operation_id="challenge_ranking",
)
def challenge_ranking(request, challenge_id: int):
    """综合得分 = 0.5 × 发榜单位评分 + 0.5 × 专家评分均值；两方都已评分的方案才有名次。科委业务人员和发榜单位可查看。"""
    challenge = _challenge(request, challenge_id)
    if not (request.user.has_perm(challenges.MANAGE) or challenges.is_poster_user(request.user, challenge)):
        raise PermissionDenied("仅科委业务人员和发榜单位可以查看排名")
    rows = [
        {
            "answer_id": r.answer.pk,
            "unit": r.answer.unit_name,
            "leader": r.answer.leader,
            "rank": r.rank,
            "poster_score": r.poster_score,
            "expert_score": r.expert_score,
            "expert_count": len(r.expert_scores),
            "final": r.final,
            "missing": r.missing,
        }
        for r in challenges.ranking(challenge)
    ]
    return {
        "challenge_id": challenge.pk,
        "rule": challenges.RULE,
        "winner_id": challenge.winner_id,
        "rows": rows,
    }


class WinnerIn(Schema):
    answer_id: int
    reason: str = Field("", description="选定非第一名时必填")


@router.post(
    "/{int:challenge_id}/winner",
    response={200: ChallengeOut, **WRITE},
    summary="定榜：选定中选方案（科委业务人员）",
    operation_id="challenge_winner",
)
def challenge_winner(request, challenge_id: int, payload: WinnerIn):
    challenge = _challenge(request, challenge_id)
    answer = ChallengeAnswer.objects.filter(pk=payload.answer_id, challenge=challenge).first()
    if answer is None:
        raise errors.FieldErrors(
            [
                {
                    "field": "answer_id",
                    "message": f"方案 {payload.answer_id} 不是本榜的揭榜方案",
                    "code": "invalid",
                }
            ]
        )
    challenges.choose_winner(challenge, answer, user=request.user, reason=payload.reason)
    return challenges.challenge_for_user(request.user, challenge.pk)
