"""`kechuang assess [--on YYYY-MM-DD]`: assess the whole registry now and store the results as a run."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count
from django.utils import timezone

from kechuang import rules
from kechuang.tiering.models import AssessmentStatus
from kechuang.tiering.services import run_now


class Command(BaseCommand):
    help = "评价企业库全部企业的各项梯度资质，结果作为一个评估批次保存（含输入快照和参数版本，可复现）"

    def add_arguments(self, parser):
        parser.add_argument("--on", help="评价日期 YYYY-MM-DD，默认今天")
        parser.add_argument(
            "--also-a-year-before",
            action="store_true",
            help="另按前一年同日评价一次，梯度页据此比较一年来的升降",
        )

    def handle(self, *args, on=None, also_a_year_before=False, **options):
        try:
            assessed_on = date.fromisoformat(on) if on else timezone.localdate()
        except ValueError:
            raise CommandError(f"评价日期格式应为 YYYY-MM-DD，而不是 {on!r}") from None
        if also_a_year_before:
            self._run(_a_year_before(assessed_on))
        self._run(assessed_on)

    def _run(self, assessed_on: date) -> None:
        run = run_now(on=assessed_on)
        if run.status != run.Status.DONE:
            raise CommandError(run.message)
        self.stdout.write(
            f"评价日期 {assessed_on}：{run.message}（批次 {run.pk}，参数版本 {run.parameters_id}）"
        )
        counts = {
            (row["area"], row["status"]): row["n"]
            for row in run.results.values("area", "status").annotate(n=Count("pk")).order_by()
        }
        for area, name in rules.NAMES.items():
            parts = [f"{status.label} {counts.get((area, status.value), 0)}" for status in AssessmentStatus]
            self.stdout.write(f"  {name}：{'，'.join(parts)}")


def _a_year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)
