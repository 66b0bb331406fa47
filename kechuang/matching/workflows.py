"""The lifecycles of 双向发榜, declared as data: a posting's moderation and a docking's steps.

Plain services with audited state changes, not kechuang.workflows.engine, and why:
- the states are fixed by the database and by the other parts of the platform, not only by this table: the
  constraints of models.py name them (a 签约 or 落地 docking has its 签约日期, a 未成 one its reason; a withdrawn
  posting frees its title), the search index holds published postings only, and the indicator 校企双向发榜成功对接
  项目 counts 签约 and 落地 dockings. A workflow version an officer publishes at /workflows/ that renamed or
  added a state would silently take postings out of the index or dockings out of the indicator;
- each docking step carries its own data (a dated note; 签约 a date and an amount, 落地 a date, 未成 a
  structured reason) that the task inbox's one-reason form cannot give;
- the models have no `workflow` column (WorkflowModel), so the inbox could not list them anyway.
So the tables below are the single place the steps are declared; services.py checks them under a row lock and
records every step: the posting's or docking's history (simple_history, with who and the step as the change
reason) and, for a docking, a dated DockingNote per step.

Who may take a step (`who`):
  owner      the posting's own side: an enterprise user of the demand's enterprise; for an achievement or a
             talent profile, its poster or a user of its organisation (matching.Affiliation)
  moderator  an officer holding matching.change_<model> (审核)
  either     owner or moderator
  side       either side of a docking (the demand's enterprise users; the counterpart's poster and its
             organisation's users) or an officer holding matching.change_docking
"""

from __future__ import annotations

from dataclasses import dataclass

from kechuang.matching.models import DockingState, PostingState

OWNER = "owner"
MODERATOR = "moderator"
EITHER = "either"
SIDE = "side"


@dataclass(frozen=True)
class Step:
    name: str
    label: str
    sources: tuple[str, ...]
    to: str
    who: str
    reason_required: bool = False


def _table(*steps: Step) -> dict[str, Step]:
    return {step.name: step for step in steps}


P = PostingState
POSTING_STEPS = _table(
    Step("submit", "提交审核", (P.DRAFT,), P.PENDING, OWNER),
    Step("resubmit", "修改后重新提交", (P.RETURNED,), P.PENDING, OWNER),
    Step("publish", "审核通过并发布", (P.PENDING,), P.PUBLISHED, MODERATOR),
    Step("return", "退回修改", (P.PENDING,), P.RETURNED, MODERATOR, reason_required=True),
    Step("close", "关闭", (P.PUBLISHED,), P.CLOSED, EITHER),
    Step("withdraw", "撤回", (P.DRAFT, P.PENDING, P.RETURNED, P.PUBLISHED), P.WITHDRAWN, OWNER),
)
# Only a published posting is searched and recommended; closed and withdrawn ones leave the index.
SEARCHABLE_STATES = (P.PUBLISHED,)
# What anyone logged in sees (a closed posting stays readable, as the record of what was on offer).
PUBLIC_STATES = (P.PUBLISHED, P.CLOSED)
# What its own side may still change (a published one goes back to 待审核 when its side changes it).
EDITABLE_STATES = (P.DRAFT, P.RETURNED, P.PENDING, P.PUBLISHED)

D = DockingState
DOCKING_STEPS = _table(
    Step("contact", "已联系", (D.RECOMMENDED,), D.CONTACTED, SIDE),
    Step("negotiate", "进入洽谈", (D.CONTACTED,), D.NEGOTIATING, SIDE),
    Step("sign", "签约", (D.NEGOTIATING,), D.SIGNED, SIDE),
    Step("land", "落地", (D.SIGNED,), D.LANDED, SIDE),
    Step(
        "decline",
        "未成（终止对接）",
        (D.RECOMMENDED, D.CONTACTED, D.NEGOTIATING, D.SIGNED),
        D.DECLINED,
        SIDE,
        reason_required=True,
    ),
)
# The order of the board's columns and of the path a docking follows.
DOCKING_PATH = (D.RECOMMENDED, D.CONTACTED, D.NEGOTIATING, D.SIGNED, D.LANDED)
ACTIVE_DOCKING_STATES = (D.RECOMMENDED, D.CONTACTED, D.NEGOTIATING)
SUCCESSFUL_DOCKING_STATES = (D.SIGNED, D.LANDED)


def steps_from(table: dict[str, Step], state: str) -> list[Step]:
    return [step for step in table.values() if state in step.sources]
