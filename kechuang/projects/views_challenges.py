"""揭榜挂帅 pages (urls_challenges.py, included under the namespace "projects"). Writes are in challenges.py,
reads in challenge_selectors.py; money is entered and shown in 万元 (stored in yuan).

Pages and who may use them (the buttons shown follow the same rules; the services check them again):
  challenges/                      榜单大厅: public challenges, any logged-in user (search, field, state, sort)
  challenges/mine/                 the user's challenges (poster), answers and review invitations
  challenges/new/, …/<pk>/edit/    出题: projects.add_challenge and a user of the poster; edit a draft or returned one
  challenges/<pk>/                 one challenge: facts, steps (submit, publish, return …), the answer form, the
                                   answers the user may see, expert invitations (officers), the log
  challenges/<pk>/answer/          揭榜 (projects.add_challengeanswer)
  challenges/answers/<pk>/review/  阅卷: the poster's users and invited experts, one score per answer
  challenges/moderation/           the officers' queue (projects.change_challenge), 待审核 first
  challenges/<pk>/ranking/         ranking with its rule; officers choose the winner and make the project
Another's draft is 404 (its existence does not leak).
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kechuang.core.money import WAN, wan_to_yuan, yuan_to_wan
from kechuang.enterprises.choices import HitechField
from kechuang.projects import challenge_selectors as selectors
from kechuang.projects import challenges
from kechuang.projects.models import Call, Challenge, ChallengeAnswer, Expert
from kechuang.workflows import engine

PAGE_SIZE = 20
WAN_FIELD = {"max_digits": 14, "decimal_places": 6}
# Steps taken on the detail page with the generic form; 定榜 goes through the ranking page.
DETAIL_STEPS = (
    "submit",
    "resubmit",
    "publish",
    "return",
    "withdraw",
    "close",
    "start_review",
    "lapse",
    "archive",
)
DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


# —— forms ————————————————————————————————————————————————————————————————————————————————————————————————


class ChallengeForm(forms.Form):
    poster = forms.ModelChoiceField(queryset=None, label="发榜单位", empty_label=None)
    title = forms.CharField(label="榜单名称", max_length=200)
    description = forms.CharField(
        label="技术难题",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="需求背景、要解决的技术问题、可考核的指标",
    )
    field = forms.ChoiceField(label="技术领域", required=False, choices=[("", "—")] + HitechField.choices)
    keywords = forms.CharField(label="关键词", max_length=200, required=False, help_text="以、或逗号分隔")
    budget = forms.DecimalField(label="榜单金额（万元）", help_text="发榜单位自筹投入", **WAN_FIELD)
    subsidy_cap = forms.DecimalField(
        label="区级资助上限（万元）",
        required=False,
        initial=0,
        help_text="中选项目申请区级资助的最高额；0 为不申请",
        **WAN_FIELD,
    )
    deadline = forms.DateTimeField(
        label="揭榜截止时间",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="截止时刻之前（含截止时刻）提交的揭榜方案有效",
        widget=DATETIME_INPUT,
    )

    def __init__(self, *args, enterprises=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["poster"].queryset = enterprises

    def values(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k != "poster"}
        data["budget"] = wan_to_yuan(data["budget"])
        data["subsidy_cap"] = wan_to_yuan(data["subsidy_cap"] or Decimal(0))
        return data

    @staticmethod
    def initial_for(challenge: Challenge) -> dict:
        return {
            "poster": challenge.poster_id,
            "title": challenge.title,
            "description": challenge.description,
            "field": challenge.field,
            "keywords": challenge.keywords,
            "budget": format((challenge.budget / WAN).normalize(), "f"),
            "subsidy_cap": format((challenge.subsidy_cap / WAN).normalize(), "f"),
            "deadline": timezone.localtime(challenge.deadline).strftime("%Y-%m-%dT%H:%M"),
        }


class AnswerForm(forms.Form):
    enterprise = forms.ModelChoiceField(queryset=None, label="揭榜单位", required=False, empty_label=None)
    organisation = forms.CharField(
        label="揭榜单位", max_length=200, required=False, help_text="高校、科研院所等单位的全称"
    )
    leader = forms.CharField(label="团队负责人", max_length=40)
    members = forms.CharField(
        label="团队成员",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="姓名、单位、职称，每行一人",
    )
    proposal = forms.CharField(
        label="揭榜方案", widget=forms.Textarea(attrs={"rows": 6}), help_text="技术路线、进度安排、考核指标"
    )
    quoted_amount = forms.DecimalField(label="报价（万元）", help_text="不超过榜单金额", **WAN_FIELD)
    period_months = forms.IntegerField(label="实施周期（月）", min_value=1, max_value=challenges.MAX_PERIOD)

    def __init__(self, *args, enterprises=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].queryset = enterprises
        if enterprises.exists():
            del self.fields["organisation"]
        else:
            del self.fields["enterprise"]
            self.fields["organisation"].required = True

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data["quoted_amount"] = wan_to_yuan(data["quoted_amount"])
        return data


class ReviewForm(forms.Form):
    score = forms.DecimalField(label="得分（0–100）", max_digits=7, decimal_places=4)
    comment = forms.CharField(label="评审意见", required=False, widget=forms.Textarea(attrs={"rows": 4}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label="说明", required=False, max_length=2000)


class InviteForm(forms.Form):
    experts = forms.ModelMultipleChoiceField(
        queryset=Expert.objects.none(),
        label="邀请阅卷专家",
        help_text="在库且有登录账号的专家；按住 Ctrl 可多选",
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    def __init__(self, *args, challenge: Challenge, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["experts"].queryset = (
            Expert.objects.filter(active=True, user__isnull=False)
            .exclude(pk__in=challenge.experts.values("pk"))
            .order_by("name", "pk")
        )


class ProjectForm(forms.Form):
    call = forms.ModelChoiceField(queryset=None, label="立项批次", empty_label="请选择")
    amount = forms.DecimalField(label="区级资助（万元）", **WAN_FIELD)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["call"].queryset = (
            Call.objects.exclude(state__in=challenges.CLOSED_CALL_STATES)
            .select_related("programme")
            .order_by("-year", "title")
        )


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's ValidationError onto the form: under the field it names, else at the top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for key, values in error.message_dict.items():
        form.add_error(key if key in form.fields else None, values)


def _flat(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [m for values in error.message_dict.values() for m in values]
    return list(error.messages)


def _query(request, *drop: str) -> str:
    query = request.GET.copy()
    for key in drop:
        query.pop(key, None)
    return query.urlencode()


def _wan(challenge: Challenge) -> Challenge:
    challenge.budget_wan = yuan_to_wan(challenge.budget)
    challenge.subsidy_cap_wan = yuan_to_wan(challenge.subsidy_cap)
    return challenge


def _challenge(request, pk) -> Challenge:
    try:
        return challenges.challenge_for_user(request.user, pk)
    except Challenge.DoesNotExist:
        raise Http404("榜单不存在或无权查看") from None


def _list_page(request, qs, filters):
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = [_wan(c) for c in selectors.with_labels(page.object_list)]
    return {
        "page": page,
        "filters": filters,
        "fields": HitechField.choices,
        "query": _query(request, "page"),
        "sort_query": _query(request, "page", "sort"),
    }


# —— 榜单大厅 · 我的榜单 · 审核队列 ——————————————————————————————————————————————————————————————————————————


@login_required
@require_GET
def challenge_hall(request):
    filters = selectors.ChallengeFilters.from_params(
        request.GET, default_state=selectors.HALL_DEFAULT_STATE, allowed_states=selectors.public_states()
    )
    context = _list_page(request, selectors.hall(filters), filters)
    context |= {
        "states": selectors.public_states(),
        "can_post": request.user.has_perm(challenges.POST)
        and challenges.acting_enterprises(request.user).exists(),
        "now": timezone.now(),
    }
    return render(request, "projects/challenges/hall.html", context)


@login_required
@permission_required(challenges.MANAGE, raise_exception=True)
@require_GET
def challenge_queue(request):
    filters = selectors.ChallengeFilters.from_params(request.GET, default_state=selectors.QUEUE_DEFAULT_STATE)
    context = _list_page(request, selectors.queue(filters), filters)
    context |= {"states": selectors.states(), "now": timezone.now()}
    return render(request, "projects/challenges/queue.html", context)


@login_required
@require_GET
def challenge_mine(request):
    answers = list(selectors.answered_by(request.user))
    for a in answers:
        a.challenge_state = engine.state_label(a.challenge)
        a.quoted_wan = yuan_to_wan(a.quoted_amount)
    context = {
        "posted": [_wan(c) for c in selectors.with_labels(selectors.posted_by(request.user))],
        "answers": answers,
        "invited": [_wan(c) for c in selectors.with_labels(selectors.invited(request.user))],
        "can_post": request.user.has_perm(challenges.POST)
        and challenges.acting_enterprises(request.user).exists(),
    }
    return render(request, "projects/challenges/mine.html", context)


# —— 出题 ——————————————————————————————————————————————————————————————————————————————————————————————————


def _posting_enterprises(request):
    if not request.user.has_perm(challenges.POST):
        raise PermissionDenied("无权发榜（需企业用户账号）")
    enterprises = challenges.acting_enterprises(request.user)
    if not enterprises.exists():
        raise PermissionDenied("您的账号未关联企业，不能发榜")
    return enterprises


@login_required
@require_http_methods(["GET", "POST"])
def challenge_create(request):
    enterprises = _posting_enterprises(request)
    if request.method == "POST":
        form = ChallengeForm(request.POST, enterprises=enterprises)
        if form.is_valid():
            try:
                saved = challenges.challenge_create(
                    poster=form.cleaned_data["poster"], user=request.user, **form.values()
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(
                    request, f"已保存榜单“{saved.title}”（草稿）。提交审核、科委发布后即可揭榜。"
                )
                return redirect("projects:challenge-detail", pk=saved.pk)
    else:
        form = ChallengeForm(
            enterprises=enterprises, initial={"poster": enterprises.first(), "subsidy_cap": 0}
        )
    return render(request, "projects/challenges/form.html", {"form": form, "challenge": None})


@login_required
@require_http_methods(["GET", "POST"])
def challenge_edit(request, pk):
    challenge = _challenge(request, pk)
    if not challenges.is_poster_user(request.user, challenge):
        raise PermissionDenied("仅发榜单位的用户可以修改榜单")
    enterprises = challenges.acting_enterprises(request.user).filter(pk=challenge.poster_id)
    if request.method == "POST":
        form = ChallengeForm(request.POST, enterprises=enterprises)
        if form.is_valid():
            values = form.values()
            shown = timezone.localtime(challenge.deadline).replace(second=0, microsecond=0)
            if values["deadline"] == shown:  # the page shows the minute: an untouched time keeps its seconds
                values["deadline"] = challenge.deadline
            try:
                saved = challenges.challenge_update(challenge, user=request.user, **values)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, f"已保存榜单“{saved.title}”。")
                return redirect("projects:challenge-detail", pk=saved.pk)
    else:
        form = ChallengeForm(enterprises=enterprises, initial=ChallengeForm.initial_for(challenge))
    return render(request, "projects/challenges/form.html", {"form": form, "challenge": challenge})


# —— 一个榜单 ————————————————————————————————————————————————————————————————————————————————————————————————


def _detail(request, challenge: Challenge, *, answer_form=None, invite_form=None, status=200):
    user = request.user
    rows = selectors.answer_rows(challenge, user)
    role = challenges.reviewer_role(user, challenge)
    reviewing = challenge.state == challenges.REVIEWING_STATE and role is not None
    for row in rows:
        row.answer.quoted_wan = yuan_to_wan(row.answer.quoted_amount)
        row.my_review = next((r for r in row.reviews if r.reviewer_id == user.pk), None)
        row.can_review = reviewing and not row.answer.withdrawn and row.my_review is None
        row.can_withdraw = (
            not row.answer.withdrawn
            and challenge.state == challenges.ANSWERING_STATE
            and challenges.own_answers(user, challenge).filter(pk=row.answer.pk).exists()
        )
    refusal = challenges.answering_refusal(challenge)
    if refusal is None:
        answering = ""
    elif challenge.state == challenges.ANSWERING_STATE:
        answering = refusal  # past the deadline, not yet closed
    else:
        answering = f"不在揭榜期（当前：{engine.state_label(challenge)}）"
    can_answer = (
        user.has_perm(challenges.ANSWER)
        and refusal is None
        and not challenges.is_poster_user(user, challenge)
    )
    if can_answer and answer_form is None:
        answer_form = AnswerForm(enterprises=challenges.acting_enterprises(user))
    manage = user.has_perm(challenges.MANAGE)
    if manage and challenge.state in challenges.INVITING_STATES and invite_form is None:
        invite_form = InviteForm(challenge=challenge)
        if not invite_form.fields["experts"].queryset.exists():
            invite_form = None  # everyone who could be invited is
    context = {
        "challenge": _wan(challenge),
        "state_label": engine.state_label(challenge),
        "field_label": challenges.field_label(challenge.field) if challenge.field else "",
        "options": _steps(challenge, user),
        "answering_note": answering,
        "answer_form": answer_form if can_answer else None,
        "rows": rows,
        "answer_count": challenge.answers.filter(withdrawn=False).count(),
        "see_all": challenges.may_see_all_answers(user, challenge),
        "role": role,
        "is_poster": challenges.is_poster_user(user, challenge),
        "manage": manage,
        "experts": list(challenge.experts.order_by("name", "pk")),
        "invite_form": invite_form,
        "can_rank": manage or challenges.is_poster_user(user, challenge),
        "history": _history(challenge),
        "now": timezone.now(),
    }
    return render(request, "projects/challenges/detail.html", context, status=status)


def _steps(challenge: Challenge, user) -> list[engine.Option]:
    """The steps shown on the page: those the user's role takes (the poster's only to the poster's users), each
    enabled or with why not yet; not the steps of other roles."""
    transitions = {t["name"]: t for t in challenge.workflow.definition.get("transitions", [])}
    poster = challenges.is_poster_user(user, challenge)
    shown = []
    for option in engine.options(challenge, user):
        t = transitions.get(option.name, {})
        if option.name not in DETAIL_STEPS or (t.get("permission") and not user.has_perm(t["permission"])):
            continue
        if "challenge_poster" in t.get("guards", []) and not poster:
            continue
        shown.append(option)
    return shown


def _history(challenge: Challenge) -> list[dict]:
    """The logged steps with the names of the challenge's own workflow version."""
    definition = challenge.workflow.definition
    states = definition.get("states", {})
    labels = {t["name"]: t["label"] for t in definition.get("transitions", [])}
    return [
        {
            "at": h.at,
            "label": labels.get(h.transition, h.transition),
            "from": states.get(h.from_state, h.from_state),
            "to": states.get(h.to_state, h.to_state),
            "actor": h.actor,
            "reason": h.reason,
        }
        for h in engine.history(challenge)
    ]


@login_required
@require_GET
def challenge_detail(request, pk):
    return _detail(request, _challenge(request, pk))


@login_required
@require_POST
def challenge_transition(request, pk, name):
    challenge = _challenge(request, pk)
    if name not in DETAIL_STEPS:
        raise Http404("没有该操作")
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        challenges.challenge_take(challenge, name, user=request.user, reason=reason)
    except ValidationError as error:
        for message in _flat(error):
            messages.error(request, message)
    else:
        messages.success(request, f"榜单“{challenge.title}”：{engine.state_label(challenge)}。")
    if request.POST.get("next") == "queue" and request.user.has_perm(challenges.MANAGE):
        return redirect("projects:challenge-queue")
    return redirect("projects:challenge-detail", pk=challenge.pk)


@login_required
@require_POST
def challenge_answer(request, pk):
    challenge = _challenge(request, pk)
    if not request.user.has_perm(challenges.ANSWER):
        raise PermissionDenied("无权揭榜")
    form = AnswerForm(request.POST, enterprises=challenges.acting_enterprises(request.user))
    if form.is_valid():
        try:
            answer = challenges.answer_submit(challenge, user=request.user, **form.values())
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"已揭榜：{answer.unit_name}，负责人 {answer.leader}。")
            return redirect("projects:challenge-detail", pk=challenge.pk)
    return _detail(request, challenge, answer_form=form, status=422)


@login_required
@require_POST
def answer_withdraw(request, pk):
    answer = get_object_or_404(ChallengeAnswer.objects.select_related("challenge"), pk=pk)
    challenge = _challenge(request, answer.challenge_id)
    try:
        challenges.answer_withdraw(answer, user=request.user)
    except ValidationError as error:
        for message in _flat(error):
            messages.error(request, message)
    else:
        messages.success(request, f"已撤回{answer.unit_name}的揭榜方案。截止前可重新揭榜。")
    return redirect("projects:challenge-detail", pk=challenge.pk)


@login_required
@permission_required(challenges.MANAGE, raise_exception=True)
@require_POST
def challenge_experts(request, pk):
    challenge = _challenge(request, pk)
    form = InviteForm(request.POST, challenge=challenge)
    if form.is_valid():
        try:
            added = challenges.invite_experts(
                challenge, experts=form.cleaned_data["experts"], user=request.user
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, "已邀请阅卷专家：" + "、".join(e.name for e in added))
            return redirect("projects:challenge-detail", pk=challenge.pk)
    return _detail(request, challenge, invite_form=form, status=422)


# —— 阅卷 ——————————————————————————————————————————————————————————————————————————————————————————————————


@login_required
@require_http_methods(["GET", "POST"])
def answer_review(request, pk):
    answer = get_object_or_404(ChallengeAnswer.objects.select_related("enterprise"), pk=pk)
    challenge = _challenge(request, answer.challenge_id)
    if answer.pk not in {a.pk for a in challenges.answers_visible_to(request.user, challenge)}:
        raise Http404("揭榜方案不存在或无权查看")
    role = challenges.reviewer_role(request.user, challenge)
    if role is None:
        raise PermissionDenied("仅发榜单位的用户和受邀专家可以阅卷")
    mine = selectors.my_reviews(request.user, challenge).get(answer.pk)
    status = 200
    if request.method == "POST":
        form = ReviewForm(request.POST)
        if form.is_valid():
            try:
                challenges.review_submit(answer, user=request.user, **form.cleaned_data)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, f"已提交对{answer.unit_name}方案的评分。")
                return redirect("projects:challenge-detail", pk=challenge.pk)
        status = 422
    else:
        form = ReviewForm()
    answer.quoted_wan = yuan_to_wan(answer.quoted_amount)
    context = {
        "challenge": _wan(challenge),
        "answer": answer,
        "form": form,
        "mine": mine,
        "role_label": dict(challenges.ChallengeReviewRole.choices)[role],
        "open": challenge.state == challenges.REVIEWING_STATE and not answer.withdrawn and mine is None,
        "state_label": engine.state_label(challenge),
    }
    return render(request, "projects/challenges/review.html", context, status=status)


# —— 排名 · 定榜 · 转立项 ——————————————————————————————————————————————————————————————————————————————————


def _ranking(request, challenge: Challenge, *, project_form=None, status=200):
    manage = request.user.has_perm(challenges.MANAGE)
    if not (manage or challenges.is_poster_user(request.user, challenge)):
        raise PermissionDenied("仅科委业务人员和发榜单位可以查看排名")
    rows = challenges.ranking(challenge)
    for row in rows:
        row.answer.quoted_wan = yuan_to_wan(row.answer.quoted_amount)
    can_make = manage and challenge.state == challenges.DECIDED_STATE and challenge.application_id is None
    if can_make and project_form is None:
        cap = (
            min(challenge.subsidy_cap, challenge.winner.quoted_amount)
            if challenge.winner
            else challenge.subsidy_cap
        )
        project_form = ProjectForm(
            initial={"call": challenge.call_id, "amount": format((cap / WAN).normalize(), "f")}
        )
    context = {
        "challenge": _wan(challenge),
        "state_label": engine.state_label(challenge),
        "rows": rows,
        "rule": challenges.RULE,
        "complete": sum(1 for r in rows if r.complete),
        "can_choose": manage and challenge.state == challenges.REVIEWING_STATE,
        "project_form": project_form if can_make else None,
        "manage": manage,
    }
    return render(request, "projects/challenges/ranking.html", context, status=status)


@login_required
@require_GET
def challenge_ranking(request, pk):
    return _ranking(request, _challenge(request, pk))


@login_required
@permission_required(challenges.MANAGE, raise_exception=True)
@require_POST
def challenge_winner(request, pk):
    challenge = _challenge(request, pk)
    answer = get_object_or_404(ChallengeAnswer, pk=request.POST.get("answer") or 0, challenge=challenge)
    try:
        challenges.choose_winner(challenge, answer, user=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as error:
        for message in _flat(error):
            messages.error(request, message)
    else:
        messages.success(request, f"已定榜：中选方案为{answer.unit_name}（负责人 {answer.leader}）。")
    return redirect("projects:challenge-ranking", pk=challenge.pk)


@login_required
@permission_required(challenges.MANAGE, raise_exception=True)
@require_POST
def challenge_project(request, pk):
    challenge = _challenge(request, pk)
    form = ProjectForm(request.POST)
    if form.is_valid():
        try:
            application = challenges.make_project(
                challenge,
                call=form.cleaned_data["call"],
                amount=wan_to_yuan(form.cleaned_data["amount"]),
                user=request.user,
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                f"中选方案已转为资助项目“{application.title}”（{application.enterprise.name}，评审完成），"
                "请下达任务书。",
            )
            if request.user.has_perm("projects.add_award"):
                return redirect("projects:award-create", application_pk=application.pk)
            return redirect("projects:challenge-ranking", pk=challenge.pk)
    return _ranking(request, challenge, project_form=form, status=422)
