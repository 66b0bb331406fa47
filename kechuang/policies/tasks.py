"""Background work of policies: 免申即享 runs and long payment lists, executed by the worker (`kechuang db_worker`)."""

from django_tasks import task

from kechuang.policies.exporting import payment_export_execute
from kechuang.policies.models import BenefitRun, PaymentExport
from kechuang.policies.services import run_execute


@task()
def benefit_run_task(run_id: int) -> str:
    """Executes a queued run; its progress and results are on the BenefitRun."""
    return run_execute(run=BenefitRun.objects.get(pk=run_id)).status


@task()
def payment_export_task(job_id: int) -> str:
    """Writes a queued payment list; its progress and file are on the PaymentExport."""
    job = PaymentExport.objects.defer("content").select_related("run", "created_by").get(pk=job_id)
    return payment_export_execute(job=job).status
