"""`kechuang deadline_reminders`: drafts whose call closes soon and milestones due soon, e-mailed (locmem)."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from kechuang.enterprises.models import Membership
from kechuang.projects.models import Milestone
from tests.workflows.conftest import make_application, make_award, make_call


def run(*args) -> str:
    out = StringIO()
    call_command("deadline_reminders", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def soon(wf):
    """alice (with an e-mail) and a colleague without one at enterprise A; the call closes in 2 days."""
    wf.alice.email = "alice@jia.example.cn"
    wf.alice.save()
    wf.ann = User.objects.create_user("ann")
    Membership.objects.create(user=wf.ann, enterprise=wf.ent_a)
    wf.call.closes_at = timezone.now() + timedelta(days=2)
    wf.call.save()
    return wf


@pytest.mark.django_db
def test_applicants_of_drafts_whose_call_closes_soon_are_emailed(soon):
    make_application(soon.call, soon.ent_a, title="已提交的项目", state="submitted", created_by=soon.alice)
    make_application(soon.call, soon.ent_a, title="退回修改的项目", state="returned", created_by=soon.alice)
    later = make_call(soon.programme, title="下半年批次", closes_at=timezone.now() + timedelta(days=20))
    make_application(later, soon.ent_a, title="远未截止的项目", created_by=soon.alice)

    out = run()
    assert len(mail.outbox) == 1  # ann has no e-mail address
    (email,) = mail.outbox
    assert email.to == ["alice@jia.example.cn"]
    assert email.subject == "【科创平台】2 项事项即将到期"
    assert (
        "申报“智能制造关键技术攻关”（上海甲科技有限公司，申报批次“2026年度科技攻关项目”）尚未提交"
        in email.body
    )
    assert "申报“退回修改的项目”" in email.body and "还剩 2 天" in email.body
    assert "已提交的项目" not in email.body and "远未截止的项目" not in email.body
    assert "未登记电子邮箱、未发送：ann" in out
    assert "3 天内到期：提醒 4 条，涉及 2 位用户；已发送邮件 1 封。" in out  # 2 items each for alice and ann


@pytest.mark.django_db
def test_owners_of_milestones_due_soon_are_emailed(soon):
    soon.call.closes_at = timezone.now() + timedelta(days=30)  # no draft falls due
    soon.call.save()
    award = make_award(
        make_application(soon.call, soon.ent_a, title="已立项项目", state="approved", created_by=soon.alice)
    )
    today = timezone.localdate()
    for number, due, state in (
        (1, today + timedelta(days=1), "planned"),
        (2, today, "reported"),
        (3, today + timedelta(days=9), "planned"),
    ):
        Milestone.objects.create(
            award=award,
            number=number,
            title=f"节点{number}",
            deliverables="样机",
            due_date=due,
            tranche=Decimal("100000"),
            state=state,
        )

    out = run("--days", "3")
    (email,) = mail.outbox
    assert email.subject == "【科创平台】1 项事项即将到期"
    assert (
        f"项目“已立项项目”（任务书 SJKW-2026-001）的节点“1. 节点1”计划于 {today + timedelta(days=1):%Y-%m-%d} 完成，还剩 1 天"
        in email.body
    )
    assert "节点2" not in email.body and "节点3" not in email.body
    assert "已发送邮件 1 封" in out


@pytest.mark.django_db
def test_a_dry_run_lists_without_sending_and_days_must_not_be_negative(soon):
    out = run("--dry-run")
    assert mail.outbox == []
    assert "alice：申报“智能制造关键技术攻关”" in out and "应发送邮件 1 封" in out
    assert "已发送邮件 0 封" in run("--days", "1")  # the call closes in 2 days
    assert mail.outbox == []
    with pytest.raises(CommandError, match="--days 不能为负数"):
        run("--days", "-1")
