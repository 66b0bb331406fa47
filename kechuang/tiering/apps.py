from django.apps import AppConfig


class TieringConfig(AppConfig):
    name = "kechuang.tiering"
    label = "tiering"
    verbose_name = "梯度培育"
