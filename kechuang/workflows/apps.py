from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "kechuang.workflows"
    label = "workflows"
    verbose_name = "流程"
