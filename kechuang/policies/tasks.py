"""Background work of policies: 免申即享 runs, executed by the worker (`kechuang db_worker`)."""

from django_tasks import task

from kechuang.policies.models import BenefitRun
from kechuang.policies.services import run_execute


@task()
def benefit_run_task(run_id: int) -> str:
    """Executes a queued run; its progress and results are on the BenefitRun."""
    return run_execute(run=BenefitRun.objects.get(pk=run_id)).status
