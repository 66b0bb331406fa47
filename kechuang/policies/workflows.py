"""The default workflows of policy items and 免申即享 runs, registered with the workflow engine at start-up
(PoliciesConfig.ready imports this module). An officer adjusts them by publishing a new version at /workflows/.

Policy item: draft → published (发布, once its definition checks out) → withdrawn (停止执行) → published again;
a published item goes back to draft (撤回修改) only while none of its runs awaits review.
Run: reviewing → confirmed (确认兑现名单: every computed benefit becomes confirmed, for the enterprises to accept)
→ closed (结案, once every confirmed benefit is paid or excluded); or reviewing → cancelled (作废: every
computed benefit is excluded, so the enterprises may be granted again by another run).
"""

from __future__ import annotations

from kechuang.workflows import engine

ITEM = "policies.item"
RUN = "policies.run"


def _t(name, label, sources, to, permission, *guard_names) -> dict:
    return {
        "name": name,
        "label": label,
        "from": list(sources),
        "to": to,
        "permission": permission,
        "guards": list(guard_names),
    }


ITEM_DEFAULT = {
    "initial": "draft",
    "states": {"draft": "草稿", "published": "已发布", "withdrawn": "已停止执行"},
    "transitions": [
        _t("publish", "发布", ["draft"], "published", "policies.change_policyitem", "item_valid"),
        _t("unpublish", "撤回修改", ["published"], "draft", "policies.change_policyitem", "no_run_in_review"),
        _t(
            "withdraw",
            "停止执行",
            ["published"],
            "withdrawn",
            "policies.change_policyitem",
            "no_run_in_review",
        ),
        _t("resume", "恢复执行", ["withdrawn"], "published", "policies.change_policyitem", "item_valid"),
    ],
}

RUN_DEFAULT = {
    "initial": "reviewing",
    "states": {"reviewing": "待审核", "confirmed": "已确认", "closed": "已结案", "cancelled": "已作废"},
    "transitions": [
        _t("confirm", "确认兑现名单", ["reviewing"], "confirmed", "policies.change_benefitrun", "run_done"),
        _t("cancel", "作废批次", ["reviewing"], "cancelled", "policies.change_benefitrun", "run_finished"),
        _t("close", "结案", ["confirmed"], "closed", "policies.change_benefitrun", "all_settled"),
    ],
}


# --- guards ----------------------------------------------------------------------------------------------


def item_valid(item, user=None) -> str | None:
    """The item's definition checks out (conditions, formula, parameters, caps) and its dates are in order."""
    from kechuang.policies import services

    problems = services.definition_problems(item.definition())
    if problems:
        return "政策事项定义有误，不能发布：" + "；".join(m for ms in problems.values() for m in ms)
    return None


def no_run_in_review(item, user=None) -> str | None:
    from kechuang.policies.models import BenefitRun

    pending = BenefitRun.objects.filter(item=item, state="reviewing").exclude(status=BenefitRun.Status.FAILED)
    if pending.exists():
        return f"该事项尚有 {pending.count()} 个批次待审核，请先确认或作废"
    return None


def run_done(run, user=None) -> str | None:
    if run.status != "done":
        return f"批次尚未核定完成（{run.get_status_display()}），不能确认"
    return None


def run_finished(run, user=None) -> str | None:
    if run.status in ("queued", "running"):
        return f"批次正在核定（{run.get_status_display()}），完成后才能作废"
    return None


def all_settled(run, user=None) -> str | None:
    waiting = run.benefits.filter(state__in=["confirmed", "accepted"]).count()
    if waiting:
        return f"尚有 {waiting} 户未拨付（待企业确认或待登记拨付），不能结案"
    return None


def _named(*functions) -> dict:
    return {f.__name__: f for f in functions}


engine.register(ITEM, default=ITEM_DEFAULT, guards=_named(item_valid, no_run_in_review))
engine.register(RUN, default=RUN_DEFAULT, guards=_named(run_done, run_finished, all_settled))
