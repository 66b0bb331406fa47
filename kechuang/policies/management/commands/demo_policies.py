"""`kechuang demo_policies`: demonstration policy items, period figures and 免申即享 runs (after `kechuang demo`)."""

from django.core.management.base import BaseCommand

from kechuang.policies.demo import load_demo_policies


class Command(BaseCommand):
    help = "生成示例政策事项（金额为演示值）、兑现期间数据和免申即享批次（需先运行 kechuang demo）；重复运行不会重复生成"

    def handle(self, *args, **options):
        self.stdout.write(load_demo_policies().text)
