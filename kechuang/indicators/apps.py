from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "kechuang.indicators"
    label = "indicators"
    verbose_name = "统计监测"

    def ready(self):
        from django.db.models.signals import post_migrate

        from kechuang.core.roles import roles_sync
        from kechuang.indicators.catalogue import catalogue_sync

        # Role groups need the permissions of every app; this is the last app in INSTALLED_APPS, so its
        # post_migrate comes after theirs (an app added after it must take this over: roles_sync says so).
        post_migrate.connect(lambda **kwargs: roles_sync(), sender=self, weak=False)
        # The documents' indicators, figures and tasks are part of the platform, in every database.
        post_migrate.connect(lambda **kwargs: catalogue_sync(), sender=self, weak=False)
