from django.apps import AppConfig


class TieringConfig(AppConfig):
    name = "kechuang.tiering"
    label = "tiering"
    verbose_name = "梯度培育"

    def ready(self):
        from django.db.models.signals import post_migrate

        from kechuang.core.roles import roles_sync

        # Role groups need the permissions of every app; this is the last app in INSTALLED_APPS, so its
        # post_migrate comes after theirs (an app added after it must take this over: roles_sync says so).
        post_migrate.connect(lambda **kwargs: roles_sync(), sender=self, weak=False)
