"""Background work of the registry: large imports, run by the worker (`kechuang db_worker`)."""

from django_tasks import task

from kechuang.enterprises.importing import registry_import
from kechuang.enterprises.models import ImportJob


@task()
def registry_import_task(job_id: int) -> str:
    """Runs a queued import job; its progress and report are on the ImportJob, the return value
    is only the final status."""
    job = ImportJob.objects.get(pk=job_id)
    return registry_import(job=job).status
