from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "kechuang.policies"
    label = "policies"
    verbose_name = "政策与免申即享"
