from django.apps import AppConfig


class RecognitionsConfig(AppConfig):
    name = "kechuang.recognitions"
    label = "recognitions"
    verbose_name = "认定登记"

    def ready(self):
        # Role groups are synced after the last app's migration by kechuang/core/apps.py, whichever app it is.
        from kechuang.recognitions import workflows  # noqa: F401
