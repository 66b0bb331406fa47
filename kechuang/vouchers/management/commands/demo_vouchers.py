"""`kechuang demo_vouchers`: the 2026 innovation-voucher scheme, its catalogue, applications, vouchers,
redemptions, a settlement and one abuse flag of each kind (after `kechuang demo`)."""

from django.core.management.base import BaseCommand

from kechuang.vouchers.demo import load_demo_vouchers


class Command(BaseCommand):
    help = "生成示例科技创新券：年度方案、服务机构目录、申请、创新券、兑付、结算及各类异常预警（需先运行 kechuang demo）；重复运行不会重复生成"

    def handle(self, *args, **options):
        self.stdout.write(load_demo_vouchers().text)
