"""`kechuang demo_projects`: the programme tree, an open demo call and its applications (after `kechuang demo`)."""

from django.core.management.base import BaseCommand

from kechuang.projects.demo import load_demo_calls
from kechuang.projects.demo_challenges import load_demo_challenges


class Command(BaseCommand):
    help = "生成示例科技计划、受理中的申报批次及其申报（需先运行 kechuang demo）；重复运行不会重复生成"

    def handle(self, *args, **options):
        self.stdout.write(load_demo_calls().text)
        self.stdout.write(load_demo_challenges().text)
