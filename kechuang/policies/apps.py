from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "kechuang.policies"
    label = "policies"
    verbose_name = "政策与免申即享"

    def ready(self):
        from django.db.models.signals import post_migrate

        from kechuang.policies import workflows  # noqa: F401
        from kechuang.policies.catalogue import catalogue_sync

        # The policy documents of docs/sources are part of the platform, in every database.
        post_migrate.connect(lambda **kwargs: catalogue_sync(), sender=self, weak=False)
