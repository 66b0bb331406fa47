"""`kechuang target_alerts`: judge every owned target now and alert owners whose target's status changed.

Recording an observation already does this for its indicator; computed indicators move with the registry
(a certificate issued or expired), so this runs daily as well (cron or the task scheduler).
"""

from django.core.management.base import BaseCommand

from kechuang.indicators.services import refresh_alerts


class Command(BaseCommand):
    help = "按最新数据判断各分解目标的进度，状态变化时提醒负责人"

    def handle(self, *args, **options):
        raised = refresh_alerts()
        for alert in raised:
            self.stdout.write(f"{alert.owner.get_username()}：{alert.message}")
        self.stdout.write(f"共发出 {len(raised)} 条目标预警。")
