"""`kechuang demo_matching`: demands, achievements, talent profiles and dockings of 双向发榜 (after `kechuang demo`)."""

from django.core.management.base import BaseCommand, CommandError

from kechuang.matching.demo import DemoError, load_demo_matching


class Command(BaseCommand):
    help = "生成双向发榜示例数据：企业技术需求、松江大学城高校的科技成果与专家团队、各阶段的对接（需先运行 kechuang demo）；重复运行不会重复生成"

    def handle(self, *args, **options):
        try:
            summary = load_demo_matching()
        except DemoError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(summary.text)
