"""`kechuang assess [--on YYYY-MM-DD]`: assess the whole registry and store the results."""

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count
from django.utils import timezone

from kechuang.tiering.models import Assessment, AssessmentArea, AssessmentStatus
from kechuang.tiering.services import assessments_run


class Command(BaseCommand):
    help = "评价企业库全部企业的梯度资质（高企、科小），结果按评价日期保存（同日重跑则替换）"

    def add_arguments(self, parser):
        parser.add_argument("--on", help="评价日期 YYYY-MM-DD，默认今天")

    def handle(self, *args, on=None, **options):
        try:
            assessed_on = date.fromisoformat(on) if on else timezone.localdate()
        except ValueError:
            raise CommandError(f"评价日期格式应为 YYYY-MM-DD，而不是 {on!r}") from None
        started = time.perf_counter()
        stored = assessments_run(on=assessed_on)
        elapsed = time.perf_counter() - started
        self.stdout.write(f"评价日期 {assessed_on}：保存评估结果 {stored} 条，用时 {elapsed:.2f} 秒")
        counts = {
            (row["area"], row["status"]): row["n"]
            for row in Assessment.objects.on(assessed_on)
            .values("area", "status")
            .annotate(n=Count("pk"))
            .order_by()
        }
        for area in AssessmentArea:
            parts = [
                f"{status.label} {counts.get((area.value, status.value), 0)}" for status in AssessmentStatus
            ]
            self.stdout.write(f"  {area.label}：{'，'.join(parts)}")
