from django.apps import AppConfig


class EnterprisesConfig(AppConfig):
    name = "kechuang.enterprises"
    label = "enterprises"
    verbose_name = "企业库"

    def ready(self):
        from django.db.models.signals import post_migrate

        from kechuang.core.roles import roles_sync

        # Role groups need this app's permissions, which exist only after its migrations.
        post_migrate.connect(lambda **kwargs: roles_sync(), sender=self, weak=False)
