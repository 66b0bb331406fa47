"""The default workflows of calls, applications, awards and 揭榜挂帅 challenges, registered with the workflow
engine at start-up (ProjectsConfig.ready imports this module).

These are the *default* definitions: version 1 of each workflow is made from them on first use, and an
officer adjusts a workflow by publishing a new version at /workflows/ (states, transitions, who may take each,
which guards apply). The guards' code is in kechuang/projects/guards.py. Permissions: applicants act with
projects.add_application (and the `applicant` guard: only the applying enterprise's own users), officers with
projects.change_call, projects.change_application, projects.add_award (立项 decisions) and
projects.change_award.
"""

from kechuang.enterprises.models import Enterprise
from kechuang.projects import guards
from kechuang.projects.models import Application, Award, Call
from kechuang.workflows import engine, selectors

CALL = "projects.call"
APPLICATION = "projects.application"
AWARD = "projects.award"
CHALLENGE = "projects.challenge"


def _t(name, label, sources, to, permission, *guard_names) -> dict:
    return {
        "name": name,
        "label": label,
        "from": list(sources),
        "to": to,
        "permission": permission,
        "guards": list(guard_names),
    }


CALL_DEFAULT = {
    "initial": "draft",
    "states": {
        "draft": "草稿",
        "open": "受理中",
        "closed": "已截止",
        "reviewing": "评审中",
        "decided": "已公布结果",
        "archived": "已归档",
    },
    "transitions": [
        _t("open", "发布申报指南", ["draft"], "open", "projects.change_call", "call_ready"),
        _t("close", "截止受理", ["open"], "closed", "projects.change_call", "deadline_passed"),
        _t("start_review", "开始评审", ["closed"], "reviewing", "projects.change_call"),
        _t(
            "decide", "公布立项结果", ["reviewing"], "decided", "projects.change_call", "applications_decided"
        ),
        _t("archive", "归档", ["decided"], "archived", "projects.change_call"),
    ],
}

APPLICATION_DEFAULT = {
    "initial": "draft",
    "states": {
        "draft": "草稿",
        "submitted": "已提交",
        "returned": "退回修改",
        "formally_passed": "形式审查通过",
        "under_review": "专家评审中",
        "reviewed": "评审完成",
        "approved": "立项",
        "rejected": "不予立项",
        "withdrawn": "已撤回",
    },
    "transitions": [
        _t(
            "submit",
            "提交申报",
            ["draft"],
            "submitted",
            "projects.add_application",
            "applicant",
            "call_open",
            "before_deadline",
            "complete_form",
            "within_cap",
            "eligible",
        ),
        _t(
            "resubmit",
            "修改后重新提交",
            ["returned"],
            "submitted",
            "projects.add_application",
            "applicant",
            "complete_form",
            "within_cap",
            "eligible",
        ),
        _t("return", "退回修改", ["submitted"], "returned", "projects.change_application"),
        _t(
            "pass_formal",
            "形式审查通过",
            ["submitted"],
            "formally_passed",
            "projects.change_application",
            "eligible",
        ),
        _t("reject_formal", "形式审查不通过", ["submitted"], "rejected", "projects.change_application"),
        _t(
            "send_to_review",
            "送专家评审",
            ["formally_passed"],
            "under_review",
            "projects.change_application",
            "call_reviewing",
            "experts_assigned",
        ),
        _t(
            "finish_review",
            "评审完成",
            ["under_review"],
            "reviewed",
            "projects.change_application",
            "reviews_complete",
        ),
        _t(
            "approve",
            "立项",
            ["reviewed"],
            "approved",
            "projects.add_award",
            "within_cap",
            "within_call_budget",
        ),
        _t("reject", "不予立项", ["reviewed"], "rejected", "projects.add_award"),
        _t(
            "withdraw",
            "撤回申报",
            ["draft", "submitted", "returned", "formally_passed"],
            "withdrawn",
            "projects.add_application",
            "applicant",
        ),
    ],
}

AWARD_DEFAULT = {
    "initial": "contracted",
    "states": {
        "contracted": "已签任务书",
        "in_progress": "实施中",
        "mid_term_checked": "已中期检查",
        "accepted": "验收通过",
        "failed": "验收不通过",
        "evaluated": "已绩效评价",
        "archived": "已归档",
    },
    "transitions": [
        _t("start", "开始实施", ["contracted"], "in_progress", "projects.change_award", "start_date_reached"),
        _t(
            "mid_term",
            "中期检查",
            ["in_progress"],
            "mid_term_checked",
            "projects.change_award",
            "mid_term_recorded",
        ),
        _t(
            "accept",
            "验收通过",
            ["mid_term_checked"],
            "accepted",
            "projects.change_award",
            "acceptance_passed",
        ),
        _t(
            "fail", "验收不通过", ["mid_term_checked"], "failed", "projects.change_award", "acceptance_failed"
        ),
        _t(
            "evaluate",
            "绩效评价",
            ["accepted", "failed"],
            "evaluated",
            "projects.change_award",
            "performance_recorded",
        ),
        _t("archive", "归档", ["evaluated"], "archived", "projects.change_award"),
    ],
}

# 揭榜挂帅 (projects/challenges.py): the poster (projects.add_challenge and the `challenge_poster` guard) submits
# its 榜单 for moderation and may withdraw it; officers (projects.change_challenge) publish or return it, close it
# after the deadline, run the review and decide (the winner is chosen by challenges.choose_winner).
CHALLENGE_DEFAULT = {
    "initial": "draft",
    "states": {
        "draft": "草稿",
        "pending": "待审核",
        "returned": "退回修改",
        "published": "揭榜中",
        "closed": "已截止",
        "reviewing": "阅卷中",
        "decided": "已定榜",
        "archived": "已归档",
        "withdrawn": "已撤榜",
    },
    "transitions": [
        _t(
            "submit",
            "提交审核",
            ["draft"],
            "pending",
            "projects.add_challenge",
            "challenge_poster",
            "challenge_deadline_ahead",
        ),
        _t(
            "resubmit",
            "修改后重新提交",
            ["returned"],
            "pending",
            "projects.add_challenge",
            "challenge_poster",
            "challenge_deadline_ahead",
        ),
        _t("return", "退回修改", ["pending"], "returned", "projects.change_challenge"),
        _t(
            "publish",
            "审核通过并发布",
            ["pending"],
            "published",
            "projects.change_challenge",
            "challenge_deadline_ahead",
        ),
        _t(
            "withdraw",
            "撤榜",
            ["pending", "returned", "published"],
            "withdrawn",
            "projects.add_challenge",
            "challenge_poster",
        ),
        _t(
            "close",
            "截止揭榜",
            ["published"],
            "closed",
            "projects.change_challenge",
            "challenge_deadline_passed",
        ),
        _t(
            "start_review",
            "开始阅卷",
            ["closed"],
            "reviewing",
            "projects.change_challenge",
            "challenge_answered",
        ),
        _t("lapse", "流榜归档", ["closed"], "archived", "projects.change_challenge", "challenge_unanswered"),
        _t(
            "decide", "定榜", ["reviewing"], "decided", "projects.change_challenge", "challenge_winner_chosen"
        ),
        _t("archive", "归档", ["decided"], "archived", "projects.change_challenge"),
    ],
}


def _named(*functions) -> dict:
    return {f.__name__: f for f in functions}


engine.register(
    CALL,
    default=CALL_DEFAULT,
    guards=_named(guards.call_ready, guards.deadline_passed, guards.applications_decided),
)
engine.register(
    APPLICATION,
    default=APPLICATION_DEFAULT,
    guards=_named(
        guards.applicant,
        guards.call_open,
        guards.before_deadline,
        guards.complete_form,
        guards.within_cap,
        guards.eligible,
        guards.within_call_budget,
        guards.call_reviewing,
        guards.experts_assigned,
        guards.reviews_complete,
    ),
)
engine.register(
    AWARD,
    default=AWARD_DEFAULT,
    guards=_named(
        guards.start_date_reached,
        guards.mid_term_recorded,
        guards.acceptance_passed,
        guards.acceptance_failed,
        guards.performance_recorded,
    ),
)

engine.register(
    CHALLENGE,
    default=CHALLENGE_DEFAULT,
    guards=_named(
        guards.challenge_poster,
        guards.challenge_deadline_ahead,
        guards.challenge_deadline_passed,
        guards.challenge_answered,
        guards.challenge_unanswered,
        guards.challenge_winner_chosen,
    ),
)


# —— Who sees what (the task inbox and its actions): officers all, others their enterprises' ——


def visible_calls(user):
    if not getattr(user, "is_authenticated", False):
        return Call.objects.none()
    if user.has_perm("projects.change_call"):
        return Call.objects.all()
    return Call.objects.exclude(state="draft")


def visible_applications(user):
    return Application.objects.filter(enterprise__in=Enterprise.objects.visible_to(user).values("pk"))


def visible_awards(user):
    return Award.objects.filter(application__enterprise__in=Enterprise.objects.visible_to(user).values("pk"))


def take_application(application, name: str, user, reason: str = ""):
    """The inbox's steps on an application through the services of projects/applications.py where they do
    more than the engine: submitting stamps submitted_at; formal review's return requires its reasons."""
    from kechuang.projects import applications

    submit = applications.submit_transition(application)
    if submit is not None and submit["name"] == name:
        return applications.application_submit(application, user=user)
    if name in (applications.RETURN, applications.PASS):
        return applications.formal_review(application, name == applications.PASS, reason, user)
    return engine.take(application, name, user, reason)


selectors.register_scope(CALL, visible_calls)
selectors.register_scope(APPLICATION, visible_applications, take=take_application)
selectors.register_scope(AWARD, visible_awards)


def visible_challenges(user):
    """Officers all; the poster's users their own in every state; everyone logged in the published ones."""
    from kechuang.projects import challenges

    return challenges.visible_challenges(user)


def take_challenge(challenge, name: str, user, reason: str = ""):
    """The inbox's steps on a challenge through challenges.challenge_take (a return needs its reason, 定榜 a
    chosen winner)."""
    from kechuang.projects import challenges

    return challenges.challenge_take(challenge, name, user=user, reason=reason)


selectors.register_scope(CHALLENGE, visible_challenges, take=take_challenge)
