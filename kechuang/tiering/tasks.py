"""Background work of tiering: whole-registry assessment runs, executed by the worker (`kechuang db_worker`)."""

from django_tasks import task

from kechuang.tiering.models import AssessmentRun
from kechuang.tiering.services import run_execute


@task()
def assessment_run_task(run_id: int) -> str:
    """Executes a queued run; its progress and results are on the AssessmentRun."""
    return run_execute(run=AssessmentRun.objects.get(pk=run_id)).status
