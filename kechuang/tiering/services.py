"""Assessing the registry: build the situation frame, call the engine once, store every result.

A run is queued by an officer (or `kechuang assess`) and executed by the worker. Its rows are written in
batches with progress, outside one long transaction, so the progress is visible; readers only ever look
at runs marked done, and a run that fails has its partial rows removed, so no one sees half a run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import date
from typing import Any

import polars as pl
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from kechuang import rules
from kechuang.core.db import analyze, insert_rows
from kechuang.enterprises.models import Enterprise
from kechuang.rules import inputs, parameters
from kechuang.tiering.models import (
    AssessedSituation,
    Assessment,
    AssessmentRun,
    ParameterRevision,
    ParameterSnapshot,
)
from kechuang.tiering.situation import situation_frame

logger = logging.getLogger(__name__)

WRITE_BATCH = 10_000  # enterprises per written batch (and per progress step)
RUN_FAILED = "评估失败，已写入的部分结果已撤回。请联系管理员查看服务器日志后重试。"
RUN_DONE = "已评估 {enterprises} 家企业的 {areas} 项资质，用时 {seconds:.1f} 秒。"


# --- parameters --------------------------------------------------------------------------------------------


def parameter_set() -> parameters.ParameterSet:
    """The parameters in force: the shipped files with every officer's confirmation or correction.

    A decision on a value the shipped files no longer hold (renamed, re-dated, or changed to another
    shape by a release) is left out and logged, not allowed to stop every assessment."""
    shipped = parameters.default()
    revisions = []
    for row in ParameterRevision.objects.select_related("decided_by").order_by("path", "effective_from"):
        revision = parameters.Revision(row.path, row.effective_from, row.value, _revision_note(row))
        try:
            shipped.revised([revision])
        except parameters.ParameterError as error:
            logger.warning(
                "parameter revision %s (%s) no longer applies: %s", row.path, row.effective_from, error
            )
            continue
        revisions.append(revision)
    return shipped.revised(revisions) if revisions else shipped


def _revision_note(revision: ParameterRevision) -> str:
    who = revision.decided_by.get_full_name() or revision.decided_by.username if revision.decided_by else "—"
    when = timezone.localtime(revision.decided_at).date().isoformat() if revision.decided_at else ""
    action = "核实修正" if revision.value is not None else "核实确认"
    return f"{who} {when} {action}：{revision.note}"


def parameter_snapshot(parameter_set: parameters.ParameterSet) -> ParameterSnapshot:
    snapshot, _ = ParameterSnapshot.objects.get_or_create(
        version=parameter_set.version,
        defaults={"texts": parameter_set.texts, "revisions": [r.as_dict() for r in parameter_set.revisions]},
    )
    return snapshot


def snapshot_parameters(snapshot: ParameterSnapshot) -> parameters.ParameterSet:
    """The parameter set a run used, rebuilt from its stored files and revisions (once per process: a
    snapshot never changes, and parsing the files costs a third of a second)."""
    cached = _SNAPSHOT_SETS.get(snapshot.version)
    if cached is None:
        revisions = [
            parameters.Revision(r["path"], date.fromisoformat(r["effective_from"]), r["value"], r["note"])
            for r in snapshot.revisions
        ]
        cached = _SNAPSHOT_SETS[snapshot.version] = parameters.from_texts(snapshot.texts, revisions)
    return cached


_SNAPSHOT_SETS: dict[str, parameters.ParameterSet] = {}


# --- runs ----------------------------------------------------------------------------------------------------


def run_request(*, on: date, user=None) -> AssessmentRun:
    """Queue an assessment of the whole registry on `on`; the worker executes it."""
    from kechuang.tiering.tasks import assessment_run_task

    run = AssessmentRun.objects.create(
        assessed_on=on, created_by=user, total=Enterprise.objects.count(), stage="排队等待后台处理"
    )
    transaction.on_commit(lambda: assessment_run_task.enqueue(run.pk))
    return run


def run_execute(*, run: AssessmentRun, enterprises: QuerySet | None = None) -> AssessmentRun:
    """Execute a queued run: every enterprise (or those given), every qualification, stored with progress."""
    if not AssessmentRun.objects.filter(pk=run.pk, status=AssessmentRun.Status.QUEUED).update(
        status=AssessmentRun.Status.RUNNING
    ):
        run.refresh_from_db()
        return run  # another worker has it, or it has run
    run.status = AssessmentRun.Status.RUNNING
    started = time.perf_counter()
    try:
        parameter_set_ = parameter_set()
        run.parameters = parameter_snapshot(parameter_set_)
        enterprises = Enterprise.objects.all() if enterprises is None else enterprises
        _progress(run, stage="读取企业数据", processed=0)
        frame = situation_frame(enterprises=enterprises, on=run.assessed_on)
        run.total = frame.height
        _progress(run, stage="逐项评价", processed=0)
        with parameters.using(parameter_set_):
            result = rules.evaluate(frame, run.assessed_on)
        _store(run, frame, result)
        analyze([Assessment._meta.db_table, AssessedSituation._meta.db_table])
    except Exception:
        logger.exception("assessment run %s failed", run.pk)
        Assessment.objects.filter(run=run).delete()
        AssessedSituation.objects.filter(run=run).delete()
        return _finish(run, AssessmentRun.Status.FAILED, RUN_FAILED, started)
    message = RUN_DONE.format(
        enterprises=run.total, areas=len(rules.QUALIFICATIONS), seconds=time.perf_counter() - started
    )
    return _finish(run, AssessmentRun.Status.DONE, message, started)


def run_now(*, on: date, user=None, enterprises: QuerySet | None = None) -> AssessmentRun:
    """Queue and execute at once (the `kechuang assess` command, tests, small registries)."""
    run = AssessmentRun.objects.create(assessed_on=on, created_by=user)
    return run_execute(run=run, enterprises=enterprises)


def _progress(run: AssessmentRun, *, stage: str, processed: int) -> None:
    run.stage, run.processed = stage, processed
    AssessmentRun.objects.filter(pk=run.pk).update(
        stage=stage, processed=processed, total=run.total, parameters=run.parameters
    )


def _finish(run: AssessmentRun, status: str, message: str, started: float) -> AssessmentRun:
    run.status, run.message = status, message
    run.stage = "" if status == AssessmentRun.Status.DONE else run.stage
    run.finished_at = timezone.now()
    run.seconds = round(time.perf_counter() - started, 2)
    if status == AssessmentRun.Status.DONE:
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
        ]
    )
    return run


def _store(run: AssessmentRun, frame: pl.DataFrame, result: pl.DataFrame) -> None:
    ids = result["enterprise_id"].cast(pl.Int64)
    area_frames = []
    for area, column in rules.RESULT_COLUMN.items():
        area_frames.append(
            pl.DataFrame(
                {
                    "enterprise_id": ids,
                    "area": pl.Series([area] * result.height, dtype=pl.String),
                    "status": result[column].cast(pl.String),
                    "score_min": result[f"{column}_score_min"]
                    if f"{column}_score_min" in result.columns
                    else None,
                    "score_max": result[f"{column}_score_max"]
                    if f"{column}_score_max" in result.columns
                    else None,
                    "unmet": result[f"{column}_unmet"].cast(pl.Int64),
                    "unknown": result[f"{column}_unknown"].cast(pl.Int64),
                },
                schema_overrides={"score_min": pl.Int64, "score_max": pl.Int64},
            ).with_row_index("_position")
        )
    per_area = len(area_frames)
    results = pl.concat(area_frames).sort("_position", maintain_order=True).drop("_position")
    assessment_table = Assessment._meta.db_table
    assessment_columns = ["run_id", *results.columns]
    situation_table = AssessedSituation._meta.db_table
    situations = situation_json(frame)
    for start in range(0, frame.height, WRITE_BATCH):
        rows = results.slice(start * per_area, WRITE_BATCH * per_area).rows()
        chunk = situations.slice(start, WRITE_BATCH).rows()
        with transaction.atomic():
            insert_rows(assessment_table, assessment_columns, [(run.pk, *row) for row in rows])
            insert_rows(situation_table, ["run_id", "enterprise_id", "inputs"], [(run.pk, *row) for row in chunk])
        _progress(run, stage="保存结果", processed=min(start + WRITE_BATCH, frame.height))


def situation_json(frame: pl.DataFrame) -> pl.DataFrame:
    """(enterprise_id, JSON of the row's known columns) per situation row, encoded by Polars: nulls are
    dropped from the text, since absent means unknown (a third of the time of json.dumps per row)."""
    return frame.select(
        pl.col("enterprise_id").cast(pl.Int64),
        pl.struct(pl.exclude("enterprise_id"))
        .struct.json_encode()
        .str.replace_all(r'"[a-z0-9_]+":null,?', "")  # column names are [a-z0-9_]; values hold no such text
        .str.replace(r",\}$", "}")
        .alias("inputs"),
    )


# --- replay --------------------------------------------------------------------------------------------------


def situation_from_snapshot(snapshot: Mapping[str, Any], enterprise_id: int | str) -> dict[str, Any]:
    """A stored situation as the engine's input dict (dates back from ISO text)."""
    situation = {"enterprise_id": str(enterprise_id)}
    for name, value in snapshot.items():
        if inputs.SCHEMA.get(name) == pl.Date and isinstance(value, str):
            value = date.fromisoformat(value)
        situation[name] = value
    return situation


def replay(
    *, run: AssessmentRun, situations: list[AssessedSituation], areas: list[str] | None = None
) -> dict[int, rules.Assessment]:
    """Re-run the engine on stored situations with the run's own parameters: the results and their full
    explanations (of every qualification, or of `areas`) exactly as they were on the run's date."""
    if not situations:
        return {}
    rows = [situation_from_snapshot(s.inputs, s.enterprise_id) for s in situations]
    with parameters.using(snapshot_parameters(run.parameters)):
        result = rules.evaluate(inputs.situation_frame(rows), run.assessed_on)
        return {
            int(row["enterprise_id"]): rules.explain(row, run.assessed_on, areas)
            for row in result.iter_rows(named=True)
        }
