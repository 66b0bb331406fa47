from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "kechuang.matching"
    verbose_name = "双向发榜与需求对接"
