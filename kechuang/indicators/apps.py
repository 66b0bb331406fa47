from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "kechuang.indicators"
    label = "indicators"
    verbose_name = "统计监测"

    def ready(self):
        from django.db.models.signals import post_migrate

        from kechuang.indicators.catalogue import catalogue_sync

        # The documents' indicators, figures and tasks are part of the platform, in every database.
        post_migrate.connect(lambda **kwargs: catalogue_sync(), sender=self, weak=False)
