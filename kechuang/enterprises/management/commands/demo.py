"""`kechuang demo`: loads the demo data (kechuang/enterprises/demo.py)."""

from django.core.management.base import BaseCommand, CommandError

from kechuang.enterprises import demo


class Command(BaseCommand):
    help = "载入示例数据：文件中的园区和附件4重点培育企业，以及 N 家合成企业（均标“示例数据”）。已有示例数据时跳过，--reset 先删除再重新生成。"

    def add_arguments(self, parser):
        parser.add_argument("--enterprises", type=int, default=demo.DEFAULT_ENTERPRISES, help="合成企业数（默认 %(default)s）")
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED, help="随机种子：同一种子、同一天生成相同数据（默认 %(default)s）")
        parser.add_argument("--years", type=int, default=demo.DEFAULT_YEARS, help="年度数据的年数，截至上一年（默认 %(default)s）")
        parser.add_argument("--reset", action="store_true", help="先删除全部示例数据（is_demo）再重新生成")

    def handle(self, *args, enterprises, seed, years, reset, **options):
        try:
            summary = demo.load_demo(enterprises=enterprises, seed=seed, years=years, reset=reset)
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(summary.text())
        if reset and not summary.skipped and demo.demo_accounts_exist():
            demo.ensure_demo_accounts()  # their memberships went with the old enterprises
            self.stdout.write("示例账号已重新关联到新的示例企业和园区。")
