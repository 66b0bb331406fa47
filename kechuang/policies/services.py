"""Writes of 政策库 and 免申即享: documents and articles, policy items (checked definitions, workflow steps), the
test of an item on one enterprise, runs (queued, executed by the worker, stored in bulk), their review (confirm,
cancel, exclude, restore), the enterprise's acceptance, payment and closing.

Every refusal is a ValidationError with a Chinese message naming the field, the value and what is allowed, and
nothing is written when one is raised. Workflow steps go through kechuang.workflows.engine (logged with who, when,
why); a benefit's own steps (exclude, restore, accept, pay) are logged in the same TransitionLog under its run's
workflow version, with the reason.

"Never twice": a benefit held (computed, confirmed, accepted, paid) for an item, period and enterprise is unique in
the database (models.Benefit). A run skips the enterprises already holding one, with the reason; restoring an
excluded benefit that another run has granted since is refused with the constraint's message.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from kechuang.core import parsing
from kechuang.core.db import insert_rows
from kechuang.core.uscc import normalise as normalise_uscc
from kechuang.enterprises.models import Enterprise, Membership
from kechuang.policies import eligibility as elig
from kechuang.policies import figures, selectors
from kechuang.policies import frame as policy_frames
from kechuang.policies.evaluate import (
    BUDGET,
    GRANTED,
    UNDETERMINED,
    ZERO,
    Definition,
    DefinitionError,
    evaluate,
    frame_from_inputs,
    full_explanation,
    static_explanation,
)
from kechuang.policies.models import (
    HELD_STATES,
    Article,
    Benefit,
    BenefitRun,
    BenefitState,
    PolicyDocument,
    PolicyFigure,
    PolicyItem,
)
from kechuang.policies.periods import Period, PeriodError
from kechuang.policies.workflows import ITEM, RUN
from kechuang.tiering import services as tiering_services
from kechuang.workflows import engine
from kechuang.workflows.models import TransitionLog

logger = logging.getLogger(__name__)

WRITE_BATCH = 10_000
STATE_OF_OUTCOME = {
    GRANTED: BenefitState.COMPUTED.value,
    UNDETERMINED: BenefitState.UNDETERMINED.value,
    ZERO: BenefitState.SKIPPED.value,
    BUDGET: BenefitState.SKIPPED.value,
}
ITEM_FIELDS = (
    "document",
    "article",
    "name",
    "kind",
    "description",
    "eligibility",
    "formula",
    "parameters",
    "cap_per_enterprise",
    "budget",
    "budget_rule",
    "period_kind",
    "effective_from",
    "effective_to",
)

ITEM_NOT_DRAFT = "政策事项“{name}”当前为“{state}”，只有草稿可以修改；请先“撤回修改”"
ARTICLE_OF_OTHER_DOCUMENT = "条款“{article}”不属于政策文件“{document}”"
ITEM_DATES = "截止日期 {end} 早于施行日期 {start}"
ITEM_NOT_PUBLISHED = "政策事项“{name}”当前为“{state}”，只有已发布的事项可以兑现"
PERIOD_BEFORE_ITEM = "兑现期间 {period}（{start} 至 {end}）早于政策事项“{name}”的施行日期 {effective}，该期间不适用本政策，不能兑现"
PERIOD_AFTER_ITEM = (
    "兑现期间 {period}（自 {start} 起）晚于政策事项“{name}”的截止日期 {effective_to}，不能兑现"
)
PERIOD_KIND = "政策事项“{name}”{kind}兑现，兑现期间须写成{example}，收到“{period}”"
PERIOD_FUTURE = "兑现期间 {period} 尚未开始（{start} 起），不能兑现"
AS_OF_OUTSIDE = "数据截至日期 {as_of} 须在兑现期间 {period}（{start} 至 {end}）之内，且不晚于今天"
RUN_OPEN = "政策事项“{name}”{period}已有未完成的批次 {run}（{state}），请先确认或作废该批次"
RUN_FAILED = "核定失败，已写入的部分结果已撤回。请联系管理员查看服务器日志后重试。"
RUN_DUPLICATE = (
    "核定失败：有企业本期已享受此项政策（数据库唯一约束），本批次未写入任何结果。请刷新后重新发起。"
)
RUN_DONE = "已核定 {total} 家企业：核定发放 {granted} 户，合计 {amount}；待定 {undetermined} 户；未予核定 {skipped} 户；用时 {seconds:.1f} 秒。"
ASSESSED_STORED = "“评价结果”条件取自梯度评估批次 {run}（评价日期 {on}）已存的结果。"
ASSESSED_LIVE = "“评价结果”条件由规则引擎按参数版本 {version} 当场评价（无同日同参数的已完成梯度评估批次）。"
REASON_REQUIRED = "请填写{action}的原因"
NOT_IN_STATE = "该兑现当前为“{state}”，不能{action}"
RUN_NOT_REVIEWING = "批次当前为“{state}”，只有待审核的批次可以{action}"
RUN_NOT_CONFIRMED = "批次当前为“{state}”，只有已确认的批次可以登记拨付"
NOT_MEMBER = "仅{enterprise}的用户可以确认领受"
ALREADY_HELD = (
    "{enterprise}本期已在批次 {run} 享受此项政策（{state}），不能恢复：同一政策同一期间不能重复兑现"
)


def _history_user(obj, user):
    obj._history_user = user if getattr(user, "is_authenticated", False) else None
    return obj


def _log(obj, workflow, name: str, before: str, after: str, user, reason: str = "") -> None:
    TransitionLog.objects.create(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        workflow=workflow,
        transition=name,
        from_state=before,
        to_state=after,
        actor=user if getattr(user, "is_authenticated", False) else None,
        reason=reason,
    )


def wan(value: Decimal | float | None) -> str:
    """Yuan as 万元 with up to four decimals, no trailing zeros (as the pages show money)."""
    if value is None:
        return "—"
    text = f"{(Decimal(value) / 10000).quantize(Decimal('0.0001')):,.4f}".rstrip("0").rstrip(".")
    return f"{text}万元"


# --- documents and articles ------------------------------------------------------------------------------------


@transaction.atomic
def document_save(*, document: PolicyDocument, user=None) -> PolicyDocument:
    """Save a document (from its form): checked by the model, saved with its history user."""
    document.full_clean()
    _history_user(document, user).save()
    return document


@transaction.atomic
def article_save(*, article: Article, user=None) -> Article:
    article.number = (article.number or "").strip()
    if article.order == 0 and article.pk is None:
        article.order = (
            article.document.articles.order_by("-order").values_list("order", flat=True).first() or 0
        ) + 1
    article.full_clean()
    _history_user(article, user).save()
    return article


# --- policy items --------------------------------------------------------------------------------------------------


def definition_problems(data: dict[str, Any]) -> dict[str, list[str]]:
    """What is wrong with an item's definition (conditions, formula, parameters, caps), by field; empty when
    nothing. The park, industry and field values a condition names are checked against the registry."""
    try:
        Definition.from_dict(data, code_lists=policy_frames.code_lists())
    except DefinitionError as error:
        return error.problems
    return {}


@transaction.atomic
def item_save(*, item: PolicyItem, user=None) -> PolicyItem:
    """Create or change a draft item (its fields set from the form); refused unless its definition checks out."""
    if item.pk:
        current = PolicyItem.objects.select_for_update().get(pk=item.pk)
        if current.state != "draft":
            raise ValidationError(ITEM_NOT_DRAFT.format(name=current.name, state=engine.state_label(current)))
    else:
        engine.start(item, ITEM)
        item.created_by = user if getattr(user, "is_authenticated", False) else None
    errors: dict[str, list[str]] = {}
    if item.article_id and item.article.document_id != item.document_id:
        errors["article"] = [ARTICLE_OF_OTHER_DOCUMENT.format(article=item.article, document=item.document)]
    if item.effective_to and item.effective_from and item.effective_to < item.effective_from:
        errors["effective_to"] = [ITEM_DATES.format(end=item.effective_to, start=item.effective_from)]
    for key, messages in definition_problems(item.definition()).items():
        errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    item.full_clean(exclude=["workflow"])
    _history_user(item, user).save()
    return item


def item_transition(*, item: PolicyItem, name: str, user, reason: str = "") -> PolicyItem:
    """发布 / 撤回修改 / 停止执行 / 恢复执行, through the workflow engine (permission, guards, log)."""
    return engine.take(item, name, user, reason)


@dataclass
class EnterpriseTest:
    """One enterprise under one item and period: the same evaluation as a run's (a one-row frame)."""

    enterprise: Enterprise
    period: Period
    on: dt.date
    eligibility: str
    outcome: str
    amount: Decimal | None
    reason: str
    explanation: dict


def item_test(
    *, definition: dict[str, Any], enterprise: Enterprise, period: Period, on: dt.date | None = None
) -> EnterpriseTest:
    """The item (as defined, saved or not) on one enterprise: eligibility, amount and explanation, computed by the
    same code as a run (no budget: the budget is shared by a run). Raises ValidationError for a bad definition."""
    parsed = _definition(definition)
    on = on or min(period.end, timezone.localdate())
    frame = policy_frames.policy_frame(
        enterprises=Enterprise.objects.filter(pk=enterprise.pk),
        on=on,
        period=period,
        assessed=elig.uses_assessment(parsed.eligibility),
        columns=parsed.columns,
    )
    parks, lists = policy_frames.park_tree(), policy_frames.code_lists()
    result = evaluate(
        frame, parsed, on=on, period=period, parks=parks, code_lists=lists, keep_not_eligible=True
    ).row(0, named=True)
    static = static_explanation(parsed, on=on, period=period, parks=parks, code_lists=lists)
    return EnterpriseTest(
        enterprise=enterprise,
        period=period,
        on=on,
        eligibility=result["eligibility"],
        outcome=result["outcome"],
        amount=Decimal(int(result["amount"])) if result["amount"] is not None else None,
        reason=result["reason"] or "",
        explanation=full_explanation(static, json.loads(result["explanation"])),
    )


def _definition(data: dict[str, Any]) -> Definition:
    try:
        return Definition.from_dict(data, code_lists=policy_frames.code_lists())
    except DefinitionError as error:
        raise ValidationError(error.problems) from None


# --- period figures (贷款利息, 保费 …) -----------------------------------------------------------------------------


@dataclass
class FiguresSaved:
    created: int
    updated: int


def figure_save(
    *, uscc: str, period_text: str, name: str, value: Any, source: str = "", user=None
) -> tuple[PolicyFigure, bool]:
    """Record one enterprise's figure for a period (the form): (figure, created). A figure already recorded for the
    enterprise, period and item is replaced. Refusals name the field, the value and what is allowed."""
    errors: dict[str, list[str]] = {}
    code = normalise_uscc(uscc)
    enterprise = Enterprise.objects.filter(uscc=code).first() if code else None
    if not code:
        errors["uscc"] = [figures.REQUIRED.format(column="统一社会信用代码")]
    elif enterprise is None:
        errors["uscc"] = [figures.UNKNOWN_USCC.format(code=code)]
    try:
        period = Period.parse(period_text)
    except PeriodError as error:
        errors["period"] = [str(error)]
    figure_name = figures.figure_code(name)
    if figure_name is None:
        errors["name"] = [figures.UNKNOWN_FIGURE.format(value=name, allowed=figures.allowed_figures())]
    try:
        amount = parsing.money(value, "金额（元）")
    except ValidationError as error:
        errors["value"] = error.messages
    if len((source or "").strip()) > 200:
        errors["source"] = [f"来源最多 200 字，现为 {len(source.strip())} 字"]
    if errors:
        raise ValidationError(errors)
    saved = figures_save(
        [figures.FigureRow(enterprise.pk, period.code, figure_name, amount, (source or "").strip())],
        user=user,
    )
    figure = PolicyFigure.objects.get(enterprise=enterprise, period=period.code, name=figure_name)
    return figure, bool(saved.created)


@transaction.atomic
def figures_save(rows: list, *, user=None) -> FiguresSaved:
    """Save checked figures (figures.FigureRow) in one transaction, with their history: new ones created, those
    already recorded for the enterprise, period and item replaced."""
    actor = user if getattr(user, "is_authenticated", False) else None
    wanted = {(r.enterprise_id, r.period, r.name): r for r in rows}
    existing = {}
    for period in {r.period for r in rows}:
        ids = [r.enterprise_id for r in rows if r.period == period]
        for figure in PolicyFigure.objects.select_for_update().filter(period=period, enterprise_id__in=ids):
            existing[(figure.enterprise_id, figure.period, figure.name)] = figure
    new, changed = [], []
    for key, row in wanted.items():
        figure = existing.get(key)
        if figure is None:
            new.append(
                PolicyFigure(
                    enterprise_id=row.enterprise_id,
                    period=row.period,
                    name=row.name,
                    value=row.value,
                    source=row.source,
                )
            )
        elif (figure.value, figure.source) != (row.value, row.source):
            figure.value, figure.source = row.value, row.source
            changed.append(figure)
    if new:
        bulk_create_with_history(new, PolicyFigure, batch_size=2000, default_user=actor)
    if changed:
        now = timezone.now()
        for figure in changed:
            figure.recorded_at = now
        bulk_update_with_history(
            changed, PolicyFigure, ["value", "source", "recorded_at"], batch_size=2000, default_user=actor
        )
    return FiguresSaved(created=len(new), updated=len(changed))


# --- runs ----------------------------------------------------------------------------------------------------------


def run_checks(*, item: PolicyItem, period_text: str, as_of: dt.date | None, today: dt.date | None = None):
    """(period, as_of) of a run of `item`, or ValidationError: the item must be published, the period of its kind,
    begun, and within the item's effective dates; as_of within the period and not after today (default: the
    period's last day, or today while the period runs)."""
    today = today or timezone.localdate()
    if item.state != "published":
        raise ValidationError(
            {"item": ITEM_NOT_PUBLISHED.format(name=item.name, state=engine.state_label(item))}
        )
    try:
        period = Period.parse(period_text)
    except PeriodError as error:
        raise ValidationError({"period": str(error)}) from None
    quarterly = item.period_kind == "quarter"
    if bool(period.quarter) != quarterly:
        raise ValidationError(
            {
                "period": PERIOD_KIND.format(
                    name=item.name,
                    kind="按季度" if quarterly else "按年度",
                    example="季度（如 2026Q2）" if quarterly else "年度（如 2026）",
                    period=period_text,
                )
            }
        )
    if period.end < item.effective_from:
        raise ValidationError(
            {
                "period": PERIOD_BEFORE_ITEM.format(
                    period=period.label,
                    start=period.start,
                    end=period.end,
                    name=item.name,
                    effective=item.effective_from,
                )
            }
        )
    if item.effective_to and period.start > item.effective_to:
        raise ValidationError(
            {
                "period": PERIOD_AFTER_ITEM.format(
                    period=period.label, start=period.start, name=item.name, effective_to=item.effective_to
                )
            }
        )
    if period.start > today:
        raise ValidationError({"period": PERIOD_FUTURE.format(period=period.label, start=period.start)})
    as_of = as_of or min(period.end, today)
    if not period.start <= as_of <= min(period.end, today):
        raise ValidationError(
            {
                "as_of": AS_OF_OUTSIDE.format(
                    as_of=as_of, period=period.label, start=period.start, end=period.end
                )
            }
        )
    return period, as_of


def _open_run(item: PolicyItem, period: Period) -> BenefitRun | None:
    return (
        BenefitRun.objects.filter(item=item, period=period.code)
        .filter(
            status__in=[BenefitRun.Status.QUEUED, BenefitRun.Status.RUNNING, BenefitRun.Status.DONE],
            state="reviewing",
        )
        .first()
    )


@transaction.atomic
def run_request(*, item: PolicyItem, period_text: str, as_of: dt.date | None = None, user=None) -> BenefitRun:
    """Queue a 免申即享 run of `item` for a period; the worker executes it (tasks.py)."""
    from kechuang.policies.tasks import benefit_run_task

    run = _run_create(item=item, period_text=period_text, as_of=as_of, user=user)
    transaction.on_commit(lambda: benefit_run_task.enqueue(run.pk))
    return run


def _run_create(*, item: PolicyItem, period_text: str, as_of: dt.date | None, user) -> BenefitRun:
    item = (
        PolicyItem.objects.select_for_update(of=("self",))
        .select_related("document", "article")
        .get(pk=item.pk)
    )
    period, as_of = run_checks(item=item, period_text=period_text, as_of=as_of)
    problems = definition_problems(item.definition())
    if problems:
        raise ValidationError(problems)
    open_run = _open_run(item, period)
    if open_run is not None:
        raise ValidationError(
            {
                "period": RUN_OPEN.format(
                    name=item.name, period=period.label, run=open_run.pk, state=open_run.get_status_display()
                )
            }
        )
    run = BenefitRun(
        item=item,
        period=period.code,
        as_of=as_of,
        definition=item.definition(),
        created_by=user if getattr(user, "is_authenticated", False) else None,
        total=Enterprise.objects.count(),
        stage="排队等待后台处理",
    )
    engine.start(run, RUN)
    run.save()
    return run


def run_now(
    *,
    item: PolicyItem,
    period_text: str,
    as_of: dt.date | None = None,
    user=None,
    enterprises=None,
    use_assessment_run: bool = True,
) -> BenefitRun:
    """Queue and execute at once (tests, the demo command, small registries)."""
    with transaction.atomic():
        run = _run_create(item=item, period_text=period_text, as_of=as_of, user=user)
    return run_execute(run=run, enterprises=enterprises, use_assessment_run=use_assessment_run)


def run_execute(
    *, run: BenefitRun, enterprises: QuerySet | None = None, use_assessment_run: bool = True
) -> BenefitRun:
    """Execute a queued run: read the registry into one frame, evaluate the item once, store every eligible (or
    undetermined) enterprise's benefit with its explanation and inputs, in batches with progress.
    "Assessed" conditions read a finished tiering run's stored results when one covers the run's date and
    parameters (recorded on the run); otherwise, or with `use_assessment_run` False, the engine evaluates them."""
    if not BenefitRun.objects.filter(pk=run.pk, status=BenefitRun.Status.QUEUED).update(
        status=BenefitRun.Status.RUNNING
    ):
        run.refresh_from_db()
        return run
    run.status = BenefitRun.Status.RUNNING
    started = time.perf_counter()
    try:
        counts, amount = _execute(run, enterprises, use_assessment_run)
    except IntegrityError:
        logger.exception("benefit run %s refused by a constraint", run.pk)
        Benefit.objects.filter(run=run).delete()
        return _finish(run, BenefitRun.Status.FAILED, RUN_DUPLICATE, started)
    except Exception:
        logger.exception("benefit run %s failed", run.pk)
        Benefit.objects.filter(run=run).delete()
        return _finish(run, BenefitRun.Status.FAILED, RUN_FAILED, started)
    run.counts, run.total_amount = counts, amount
    message = RUN_DONE.format(
        total=run.total,
        granted=counts.get(BenefitState.COMPUTED, 0),
        amount=wan(amount),
        undetermined=counts.get(BenefitState.UNDETERMINED, 0),
        skipped=counts.get(BenefitState.SKIPPED, 0),
        seconds=time.perf_counter() - started,
    )
    if run.assessment_run is not None:
        message += ASSESSED_STORED.format(run=run.assessment_run.pk, on=run.assessment_run.assessed_on)
    elif run.parameters_id:
        message += ASSESSED_LIVE.format(version=run.parameters_id)
    return _finish(run, BenefitRun.Status.DONE, message, started)


def _execute(
    run: BenefitRun, enterprises: QuerySet | None, use_assessment_run: bool
) -> tuple[dict[str, int], Decimal]:
    definition = Definition.from_dict(run.definition, code_lists=policy_frames.code_lists())
    period = Period.parse(run.period)
    assessed = elig.uses_assessment(definition.eligibility)
    parameter_set = None
    if assessed:
        parameter_set = tiering_services.parameter_set()
        run.parameters = tiering_services.parameter_snapshot(parameter_set)
        if use_assessment_run:
            run.assessment_run = selectors.covering_assessment_run(on=run.as_of, parameters=run.parameters)
    _progress(run, stage="读取企业数据", processed=0)
    enterprises = Enterprise.objects.all() if enterprises is None else enterprises
    frame = policy_frames.policy_frame(
        enterprises=enterprises,
        on=run.as_of,
        period=period,
        assessed=assessed,
        parameter_set=parameter_set,
        columns=definition.columns,
        assessment_run=run.assessment_run,
    )
    run.total = frame.height
    held = list(
        Benefit.objects.filter(item_id=run.item_id, period=run.period, state__in=HELD_STATES)
        .exclude(run=run)
        .values_list("enterprise_id", "run_id", "state", "amount")
    )
    held_ids = pl.Series([h[0] for h in held], dtype=pl.Int64)
    available = None
    if definition.budget is not None:
        used = sum((h[3] or Decimal(0)) for h in held)
        available = Decimal(str(definition.budget)) - used
        run.budget_available = max(available, Decimal(0))
    _progress(run, stage="核定资格与金额", processed=0)
    parks, lists = policy_frames.park_tree(), policy_frames.code_lists()
    run.explanation = static_explanation(
        definition, on=run.as_of, period=period, parks=parks, code_lists=lists
    )
    result = evaluate(
        frame.filter(~pl.col("enterprise_id").is_in(held_ids.implode())),
        definition,
        on=run.as_of,
        period=period,
        budget_available=float(available) if available is not None else None,
        parks=parks,
        code_lists=lists,
    )
    rows = result.select(
        pl.lit(run.pk, dtype=pl.Int64).alias("run_id"),
        "enterprise_id",
        pl.lit(run.item_id, dtype=pl.Int64).alias("item_id"),
        pl.lit(run.period).alias("period"),
        pl.col("outcome").replace_strict(STATE_OF_OUTCOME, return_dtype=pl.String),
        pl.col("amount").cast(pl.Int64).cast(pl.String),
        pl.col("reason").fill_null("").str.slice(0, 500),
        "explanation",
        "inputs",
    ).rows()
    in_frame = set(frame["enterprise_id"].to_list())
    state_label = dict(BenefitState.choices)
    rows += [
        _skipped_row(run, enterprise_id, other_run, state_label[state])
        for enterprise_id, other_run, state, _ in held
        if enterprise_id in in_frame
    ]
    table = Benefit._meta.db_table
    columns = [
        "run_id",
        "enterprise_id",
        "item_id",
        "period",
        "state",
        "amount",
        "reason",
        "explanation",
        "inputs",
    ]
    written = 0
    _progress(run, stage="保存核定结果", processed=0)
    for start in range(0, len(rows), WRITE_BATCH):
        chunk = rows[start : start + WRITE_BATCH]
        with transaction.atomic():
            insert_rows(table, columns, chunk)
        written += len(chunk)
        _progress(run, stage="保存核定结果", processed=min(run.total, written))
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[4]] = counts.get(row[4], 0) + 1
    amount = Decimal(int(result.filter(pl.col("outcome") == GRANTED)["amount"].sum() or 0))
    counts["not_eligible"] = run.total - len(rows)
    return counts, amount


def _skipped_row(run: BenefitRun, enterprise_id: int, other_run: int, state: str) -> tuple:
    summary = (
        f"本期已于批次 {other_run} 核定此项政策（{state}），同一政策同一期间不重复兑现，本批次不再核定。"
    )
    explanation = json.dumps(
        {"summary": summary, "outcome": "duplicate", "run": other_run}, ensure_ascii=False
    )
    return (
        run.pk,
        enterprise_id,
        run.item_id,
        run.period,
        BenefitState.SKIPPED.value,
        None,
        f"已于批次 {other_run} 享受（{state}）",
        explanation,
        "{}",
    )


def _progress(run: BenefitRun, *, stage: str, processed: int) -> None:
    run.stage, run.processed = stage, processed
    BenefitRun.objects.filter(pk=run.pk).update(
        stage=stage,
        processed=processed,
        total=run.total,
        parameters=run.parameters,
        assessment_run=run.assessment_run,
        budget_available=run.budget_available,
    )


def _finish(run: BenefitRun, status: str, message: str, started: float) -> BenefitRun:
    run.status, run.message = status, message
    run.stage = "" if status == BenefitRun.Status.DONE else run.stage
    run.finished_at = timezone.now()
    run.seconds = round(time.perf_counter() - started, 2)
    if status == BenefitRun.Status.DONE:
        run.processed = run.total
    run.save(
        update_fields=[
            "status",
            "message",
            "stage",
            "finished_at",
            "seconds",
            "processed",
            "total",
            "parameters",
            "assessment_run",
            "counts",
            "total_amount",
            "budget_available",
            "explanation",
        ]
    )
    return run


def replay(*, run: BenefitRun) -> pl.DataFrame:
    """The run computed again from what it stored — the item's definition, the run's budget and each benefit's
    inputs — with the same code: amounts, outcomes and explanations as they were (later changes to the item or
    the registry do not matter). Benefits skipped as already granted elsewhere are not recomputed."""
    definition = Definition.from_dict(run.definition, code_lists=None)
    stored = list(
        run.benefits.exclude(reason__startswith="已于批次")
        .order_by("enterprise_id")
        .values_list("enterprise_id", "inputs")
    )
    rows = [(pk, json.dumps(inputs, ensure_ascii=False)) for pk, inputs in stored]
    frame = frame_from_inputs(rows, definition)
    return evaluate(
        frame,
        definition,
        on=run.as_of,
        period=Period.parse(run.period),
        budget_available=float(run.budget_available) if run.budget_available is not None else None,
        parks=policy_frames.park_tree(),
        code_lists=None,
    )


# --- review ----------------------------------------------------------------------------------------------------


def run_transition(*, run: BenefitRun, name: str, user, reason: str = "") -> BenefitRun:
    """确认兑现名单 / 作废批次 / 结案, through the engine; the benefits follow in the same transaction:
    confirm: every computed benefit becomes confirmed (for the enterprises to accept); cancel: every computed
    benefit is excluded with the reason, so another run may grant them."""
    now = timezone.now()
    actor = user if getattr(user, "is_authenticated", False) else None
    with transaction.atomic():
        if name == "cancel" and not (reason or "").strip():
            raise ValidationError({"reason": REASON_REQUIRED.format(action="作废")})
        run = engine.take(run, name, user, reason)
        computed = Benefit.objects.filter(run=run, state=BenefitState.COMPUTED)
        if name == "confirm":
            computed.update(state=BenefitState.CONFIRMED, decided_by=actor, decided_at=now)
        elif name == "cancel":
            computed.update(
                state=BenefitState.EXCLUDED,
                reason=f"批次作废：{reason.strip()}"[:500],
                decided_by=actor,
                decided_at=now,
            )
    return run


def _benefit(benefit: Benefit) -> Benefit:
    return (
        Benefit.objects.select_for_update().select_related("run__workflow", "enterprise").get(pk=benefit.pk)
    )


def benefit_exclude(*, benefit: Benefit, user, reason: str) -> Benefit:
    """剔除: an officer takes a computed benefit out of the run under review, with the reason."""
    reason = (reason or "").strip()
    with transaction.atomic():
        benefit = _benefit(benefit)
        if not reason:
            raise ValidationError({"reason": REASON_REQUIRED.format(action="剔除")})
        if benefit.run.state != "reviewing":
            raise ValidationError(
                RUN_NOT_REVIEWING.format(state=engine.state_label(benefit.run), action="剔除")
            )
        if benefit.state != BenefitState.COMPUTED:
            raise ValidationError(NOT_IN_STATE.format(state=benefit.get_state_display(), action="剔除"))
        before = benefit.state
        benefit.state, benefit.reason = BenefitState.EXCLUDED, reason[:500]
        benefit.decided_by = user if getattr(user, "is_authenticated", False) else None
        benefit.decided_at = timezone.now()
        benefit.save(update_fields=["state", "reason", "decided_by", "decided_at"])
        _log(benefit, benefit.run.workflow, "exclude", before, benefit.state, user, reason)
    return benefit


def benefit_restore(*, benefit: Benefit, user, reason: str = "") -> Benefit:
    """恢复: an excluded benefit of a run under review back to computed; refused when the enterprise holds this
    item for the period in another run since (the database's unique constraint decides)."""
    with transaction.atomic():
        benefit = _benefit(benefit)
        if benefit.run.state != "reviewing":
            raise ValidationError(
                RUN_NOT_REVIEWING.format(state=engine.state_label(benefit.run), action="恢复")
            )
        if benefit.state != BenefitState.EXCLUDED or benefit.amount is None:
            raise ValidationError(NOT_IN_STATE.format(state=benefit.get_state_display(), action="恢复"))
        before = benefit.state
        try:
            with transaction.atomic():
                Benefit.objects.filter(pk=benefit.pk).update(state=BenefitState.COMPUTED, reason="")
        except IntegrityError:
            other = (
                Benefit.objects.filter(
                    item_id=benefit.item_id,
                    period=benefit.period,
                    enterprise_id=benefit.enterprise_id,
                    state__in=HELD_STATES,
                )
                .exclude(pk=benefit.pk)
                .first()
            )
            raise ValidationError(
                ALREADY_HELD.format(
                    enterprise=benefit.enterprise.name,
                    run=other.run_id if other else "?",
                    state=other.get_state_display() if other else "",
                )
            ) from None
        benefit.state, benefit.reason = BenefitState.COMPUTED, ""
        _log(benefit, benefit.run.workflow, "restore", before, benefit.state, user, reason)
    return benefit


def benefit_accept(*, benefit: Benefit, user) -> Benefit:
    """确认领受: the enterprise's own user accepts a confirmed benefit (no application is needed)."""
    with transaction.atomic():
        benefit = _benefit(benefit)
        if not (
            getattr(user, "is_authenticated", False)
            and Membership.objects.filter(user=user, enterprise_id=benefit.enterprise_id).exists()
        ):
            raise ValidationError(NOT_MEMBER.format(enterprise=benefit.enterprise.name))
        if benefit.state != BenefitState.CONFIRMED:
            raise ValidationError(NOT_IN_STATE.format(state=benefit.get_state_display(), action="确认领受"))
        before = benefit.state
        benefit.state, benefit.accepted_by, benefit.accepted_at = BenefitState.ACCEPTED, user, timezone.now()
        benefit.save(update_fields=["state", "accepted_by", "accepted_at"])
        _log(benefit, benefit.run.workflow, "accept", before, benefit.state, user)
    return benefit


def run_pay(*, run: BenefitRun, user, note: str = "") -> int:
    """登记拨付: every benefit of a confirmed run that its enterprise has accepted is marked paid; the number."""
    with transaction.atomic():
        run = BenefitRun.objects.select_for_update().select_related("workflow").get(pk=run.pk)
        if run.state != "confirmed":
            raise ValidationError(RUN_NOT_CONFIRMED.format(state=engine.state_label(run)))
        accepted = Benefit.objects.filter(run=run, state=BenefitState.ACCEPTED)
        total = accepted.aggregate(total=Sum("amount"))["total"] or Decimal(0)
        count = accepted.update(state=BenefitState.PAID, paid_at=timezone.now())
        if count:
            _log(
                run,
                run.workflow,
                "pay",
                run.state,
                run.state,
                user,
                f"登记拨付 {count} 户，合计 {wan(total)}。{note}".strip(),
            )
    return count
