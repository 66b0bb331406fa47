from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "kechuang.projects"
    label = "projects"
    verbose_name = "科技计划项目"

    def ready(self):
        from django.db.models.signals import post_migrate

        from kechuang.core.roles import roles_sync
        from kechuang.projects import workflows  # noqa: F401

        # Role groups need the permissions of every app; this is the last app in INSTALLED_APPS, so its
        # post_migrate comes after theirs (an app added after it must take this over: roles_sync says so).
        post_migrate.connect(lambda **kwargs: roles_sync(), sender=self, weak=False)
