from django.apps import AppConfig


class VouchersConfig(AppConfig):
    name = "kechuang.vouchers"
    label = "vouchers"
    verbose_name = "科技创新券"

    def ready(self):
        from kechuang.vouchers import workflows  # noqa: F401
