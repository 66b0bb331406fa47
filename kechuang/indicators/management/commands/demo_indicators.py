"""`kechuang demo_indicators`: synthetic observations for the hand-recorded indicators (see indicators/demo.py)."""

from django.core.management.base import BaseCommand

from kechuang.indicators.demo import DEMO_SOURCE, load_demo_observations


class Command(BaseCommand):
    help = "为需人工录入的指标生成演示观测值（来源标注为“演示数据”），重复运行会替换旧的演示值"

    def handle(self, *args, **options):
        made = load_demo_observations()
        self.stdout.write(f"已生成 {made} 条演示观测值（来源：{DEMO_SOURCE}）。")
