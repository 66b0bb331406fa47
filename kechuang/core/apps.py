from django.apps import AppConfig, apps


def _roles_sync_after_the_last_app(sender, **kwargs):
    # Role groups need the permissions of every app: post_migrate comes once per app with models, in
    # INSTALLED_APPS order, so the sync waits for the last one (whichever app that is).
    last = [config for config in apps.get_app_configs() if config.models_module is not None][-1]
    if sender is last:
        from kechuang.core.roles import roles_sync

        roles_sync()


class CoreConfig(AppConfig):
    name = "kechuang.core"
    label = "core"
    verbose_name = "公共"

    def ready(self):
        from django.db.models.signals import post_migrate

        post_migrate.connect(_roles_sync_after_the_last_app, dispatch_uid="kechuang.core.roles_sync")
