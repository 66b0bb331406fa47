from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "kechuang.projects"
    label = "projects"
    verbose_name = "科技计划项目"

    def ready(self):
        from kechuang.projects import workflows  # noqa: F401
