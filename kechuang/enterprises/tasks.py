"""Background work of the registry: large imports and exports, run by the worker (`kechuang db_worker`)."""

from django_tasks import task

from kechuang.enterprises.exporting import registry_export
from kechuang.enterprises.importing import registry_import
from kechuang.enterprises.models import ExportJob, ImportJob


@task()
def registry_import_task(job_id: int) -> str:
    """Runs a queued import job; its progress and report are on the ImportJob, the return value
    is only the final status."""
    job = ImportJob.objects.get(pk=job_id)
    return registry_import(job=job).status


@task()
def registry_export_task(job_id: int) -> str:
    """Runs a queued export job; its progress and file are on the ExportJob, the return value
    is only the final status."""
    job = ExportJob.objects.defer("content").get(pk=job_id)
    return registry_export(job=job).status
