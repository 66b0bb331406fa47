"""`kechuang demo_recognitions`: demo technology contracts and 高转 projects (after `kechuang demo`)."""

from django.core.management.base import BaseCommand, CommandError

from kechuang.recognitions.demo import DemoError, load_demo


class Command(BaseCommand):
    help = "生成示例技术合同认定登记（含付款计划与履约）和高新技术成果转化项目（需先运行 kechuang demo）；重复运行不会重复生成"

    def handle(self, *args, **options):
        try:
            report = load_demo()
        except DemoError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(report.text)
