"""`kechuang deadline_reminders [--days N] [--dry-run]`: e-mail what falls due within N days (default 3).

- the applicants of applications still in draft (草稿, or 退回修改) whose call closes within N days;
- the owners of milestones not yet reported (计划中, or 退回修改) due within N days.

An application's or milestone's people are the user who filled the application in and the users of its
enterprise; each gets one e-mail listing all their items (Django's mail backend: the console in development,
EMAIL_BACKEND in production). Run daily (cron or the task scheduler). Nothing is recorded in the platform:
each reminder is printed here.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kechuang.projects.models import Application, Milestone

DRAFT_STATES = ("draft", "returned")  # the applicant may still edit and submit
OPEN_MILESTONE_STATES = ("planned", "returned")  # the report is still to come
SUBJECT = "【科创平台】{count} 项事项即将到期"


def _people(application: Application) -> list:
    """The application's filler and its enterprise's users, active ones only."""
    users = list(
        get_user_model().objects.filter(memberships__enterprise_id=application.enterprise_id, is_active=True)
    )
    if application.created_by is not None and application.created_by.is_active:
        users.append(application.created_by)
    return list({u.pk: u for u in users}.values())


def _days_left(today, due) -> str:
    days = (due - today).days
    return "今天到期" if days <= 0 else f"还剩 {days} 天"


def due_items(days: int, now=None) -> dict:
    """{user: [item text]} for everything due within `days` days of `now`."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    items: dict = defaultdict(list)
    drafts = Application.objects.filter(
        state__in=DRAFT_STATES,
        call__state="open",
        call__closes_at__gt=now,
        call__closes_at__lte=now + timedelta(days=days),
    ).select_related("call", "enterprise", "created_by")
    for application in drafts.order_by("call__closes_at", "pk"):
        closes = timezone.localtime(application.call.closes_at)
        text = (
            f"申报“{application.title}”（{application.enterprise.name}，申报批次“{application.call.title}”）尚未提交，"
            f"申报于 {closes:%Y-%m-%d %H:%M} 截止，{_days_left(today, closes.date())}，请及时填写并提交。"
        )
        for user in _people(application):
            items[user].append(text)
    milestones = Milestone.objects.filter(
        state__in=OPEN_MILESTONE_STATES, due_date__gte=today, due_date__lte=today + timedelta(days=days)
    ).select_related("award__application__enterprise", "award__application__created_by")
    for milestone in milestones.order_by("due_date", "pk"):
        award = milestone.award
        text = (
            f"项目“{award.application.title}”（任务书 {award.contract_no}）的节点“{milestone.number}. {milestone.title}”"
            f"计划于 {milestone.due_date:%Y-%m-%d} 完成，{_days_left(today, milestone.due_date)}，请按时提交节点报告。"
        )
        for user in _people(award.application):
            items[user].append(text)
    return items


def message(user, texts: list[str]) -> EmailMessage:
    name = user.get_full_name() or user.get_username()
    body = "\n".join(
        [
            f"{name}，您好：",
            "",
            "以下事项即将到期：",
            *(f"· {t}" for t in texts),
            "",
            "科创平台（松江区科学技术委员会）",
        ]
    )
    return EmailMessage(SUBJECT.format(count=len(texts)), body, settings.DEFAULT_FROM_EMAIL, [user.email])


class Command(BaseCommand):
    help = "提醒：申报即将截止的草稿申报和即将到期的项目节点，以电子邮件通知申报单位用户"

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=3, help="提醒多少天内到期的事项（默认 3 天）")
        parser.add_argument("--dry-run", action="store_true", help="只列出提醒，不发送邮件")

    def handle(self, *args, days: int, dry_run: bool, **options):
        if days < 0:
            raise CommandError("--days 不能为负数")
        items = due_items(days)
        emails, without = [], []
        for user, texts in sorted(items.items(), key=lambda pair: pair[0].get_username()):
            for text in texts:
                self.stdout.write(f"{user.get_username()}：{text}")
            if user.email:
                emails.append(message(user, texts))
            else:
                without.append(user.get_username())
        sent = 0 if dry_run or not emails else get_connection().send_messages(emails)
        if without:
            self.stdout.write(f"未登记电子邮箱、未发送：{'、'.join(without)}")
        verb = "应发送" if dry_run else "已发送"
        count = len(emails) if dry_run else sent
        total = sum(len(t) for t in items.values())
        self.stdout.write(
            f"{days} 天内到期：提醒 {total} 条，涉及 {len(items)} 位用户；{verb}邮件 {count} 封。"
        )
