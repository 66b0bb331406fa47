"""The 计划任务 pages: who may see them and add notes, filters, sorting, paging, overdue in red, the export."""

import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from kechuang.indicators import tasks as services
from kechuang.indicators.models import PlanTask, ResponsibleUnit, TaskNote, TaskStatus

pytestmark = pytest.mark.django_db

LIST = "/indicators/tasks/"
UNITS = "/indicators/tasks/units/"
EXPORT = "/indicators/tasks/export.xlsx"


def detail(task):
    return f"/indicators/tasks/{task.pk}/"


@pytest.fixture
def task(db):
    return PlanTask.objects.get(document="004", kind="key_project", number=2)


def as_(client, user):
    client.force_login(user)
    return client


def test_officers_and_leaders_see_the_pages_others_get_403(client, personas, task):
    kewei = ResponsibleUnit.objects.get(name="区科委")
    urls = [LIST, UNITS, f"{UNITS}{kewei.pk}/", detail(task), EXPORT]
    for user in (personas.carol, personas.leo):
        for url in urls:
            assert as_(client, user).get(url).status_code == 200, (user, url)
    for user in (personas.alice, personas.bob, personas.uma, personas.eve):
        for url in urls:
            assert as_(client, user).get(url).status_code == 403, (user, url)
    client.logout()
    response = client.get(LIST)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert as_(client, personas.carol).get(f"{UNITS}999999/").status_code == 404
    assert client.get("/indicators/tasks/999999/").status_code == 404


def test_only_officers_add_notes_and_change_status(client, personas, task):
    note_url = f"{detail(task)}notes/"
    status_url = f"{detail(task)}status/"
    today = timezone.localdate().isoformat()
    for user in (personas.alice, personas.leo):
        c = as_(client, user)
        assert c.post(note_url, {"date": today, "text": "x", "progress": "10"}).status_code == 403, user
        assert c.post(status_url, {"status": "suspended"}).status_code == 403, user
    assert not TaskNote.objects.exists()
    page = as_(client, personas.leo).get(detail(task)).content.decode()
    assert 'id="note-form"' not in page and 'id="status-form"' not in page
    page = as_(client, personas.carol).get(detail(task)).content.decode()
    assert 'id="note-form"' in page and 'id="status-form"' in page
    assert as_(client, personas.carol).get(note_url).status_code == 405


def test_an_officer_adds_notes_shown_newest_first_with_date_and_author(client, personas, task):
    personas.carol.first_name = "卡萝"
    personas.carol.save()
    c = as_(client, personas.carol)
    today = timezone.localdate()
    response = c.post(
        f"{detail(task)}notes/",
        {"date": (today - timedelta(days=30)).isoformat(), "text": "首批进展：方案已评审", "progress": "40"},
    )
    assert response.status_code == 302 and response["Location"] == detail(task)
    c.post(
        f"{detail(task)}notes/", {"date": today.isoformat(), "text": "末次进展：全部建成", "progress": "100"}
    )
    task.refresh_from_db()
    assert (task.status, task.progress) == (TaskStatus.DONE, 100)
    page = c.get(detail(task)).content.decode()
    assert page.index("末次进展：全部建成") < page.index("首批进展：方案已评审")
    assert today.isoformat() in page and (today - timedelta(days=30)).isoformat() in page
    assert "卡萝" in page and "已完成" in page


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"text": "", "progress": "10"}, ["进展说明不能为空"]),
        ({"text": "进展", "progress": "120"}, ["进度（%）须为 0 到 100 之间的整数", "120"]),
        ({"text": "进展", "progress": "10", "date": "2999-01-01"}, ["日期 2999-01-01 晚于今天"]),
    ],
)
def test_bad_notes_show_their_message_and_save_nothing(client, personas, task, data, words):
    data = {"date": timezone.localdate().isoformat()} | data
    response = as_(client, personas.carol).post(f"{detail(task)}notes/", data)
    assert response.status_code == 200
    page = response.content.decode()
    for word in words:
        assert word in page
    assert not TaskNote.objects.exists()
    task.refresh_from_db()
    assert (task.status, task.progress) == (TaskStatus.NOT_STARTED, 0)


def test_backwards_progress_on_the_page_needs_the_reason(client, personas, task):
    c = as_(client, personas.carol)
    today = timezone.localdate().isoformat()
    c.post(f"{detail(task)}notes/", {"date": today, "text": "推进", "progress": "60"})
    page = c.post(f"{detail(task)}notes/", {"date": today, "text": "调整", "progress": "30"}).content.decode()
    assert "下调原因" in page and "由 60% 下调为 30%" in page
    assert TaskNote.objects.count() == 1
    response = c.post(
        f"{detail(task)}notes/", {"date": today, "text": "调整", "progress": "30", "reason": "发射窗口推迟"}
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.progress == 30


def test_status_change_on_the_page(client, personas, task):
    c = as_(client, personas.carol)
    assert c.post(f"{detail(task)}status/", {"status": "suspended"}).status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.SUSPENDED
    page = c.post(f"{detail(task)}status/", {"status": "suspended"}).content.decode()
    assert "任务状态已是“暂缓”" in page
    assert "【状态调整】未开始 → 暂缓" in c.get(detail(task)).content.decode()


def test_list_filters_sorting_and_paging(client, personas):
    c = as_(client, personas.leo)
    page = c.get(LIST).content.decode()
    assert "共 <strong>36</strong> 项任务" in page and "第 1 / 2 页" in page
    assert "逾期：已过完成期限" in page
    page = c.get(LIST, {"page": "2"}).content.decode()
    assert "第 2 / 2 页" in page and len(re.findall(r'href="/indicators/tasks/\d+/"', page)) == 36 - 25
    page = c.get(LIST, {"kind": "service"}).content.decode()
    assert "共 <strong>10</strong> 项任务" in page and "政策宣贯" in page and "（已筛选）" in page
    assert "共 <strong>15</strong> 项任务" in c.get(LIST, {"document": "001"}).content.decode()
    page = c.get(LIST, {"q": "脑机接口"}).content.decode()
    assert "共 <strong>3</strong> 项任务" in page
    unit = ResponsibleUnit.objects.get(name="区经委")
    page = c.get(LIST, {"unit": unit.pk, "sort": "-number"}).content.decode()
    assert "共 <strong>3</strong> 项任务" in page
    assert page.index("科创服务精准赋能行动") < page.index("特色产业提质增效行动")
    PlanTask.objects.filter(kind="service", number=7).update(status="in_progress", progress=55)
    page = c.get(LIST, {"status": "in_progress", "sort": "-progress"}).content.decode()
    assert "共 <strong>1</strong> 项任务" in page and "法律服务" in page
    assert (
        "共 <strong>36</strong> 项任务"
        in c.get(LIST, {"kind": "bogus", "sort": "bogus", "page": "99"}).content.decode()
    )
    partial = c.get(LIST, {"kind": "reform_task"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "共 <strong>5</strong> 项任务" in partial


def test_overdue_is_flagged_in_red_and_filtered(client, personas, task):
    past = timezone.localdate() - timedelta(days=1)
    PlanTask.objects.filter(pk=task.pk).update(deadline=past)
    PlanTask.objects.filter(kind="service", number=1).update(deadline=past, status="done", progress=100)
    c = as_(client, personas.leo)
    page = c.get(LIST, {"overdue": "1"}).content.decode()
    assert "共 <strong>1</strong> 项任务" in page and "卫星互联网产业高地建设" in page
    assert 'class="overdue"' in page and '<span class="tag bad"' in page and "color:var(--red)" in page
    assert "共 <strong>35</strong> 项任务" in c.get(LIST, {"overdue": "0"}).content.decode()
    assert 'id="overdue-flag"' in c.get(detail(task)).content.decode()
    done = PlanTask.objects.get(kind="service", number=1)
    assert 'id="overdue-flag"' not in c.get(detail(done)).content.decode()
    # On the deadline day the task is not overdue yet.
    PlanTask.objects.filter(pk=task.pk).update(deadline=timezone.localdate())
    assert 'id="overdue-flag"' not in c.get(detail(task)).content.decode()


def test_units_pages(client, personas, task):
    c = as_(client, personas.carol)
    PlanTask.objects.filter(pk=task.pk).update(deadline=timezone.localdate() - timedelta(days=1))
    page = c.get(UNITS).content.decode()
    assert "区科委" in page and "上海垣信卫星科技有限公司" in page and "逾期：" in page
    page = c.get(UNITS, {"q": "垣信"}).content.decode()
    assert "共 <strong>1</strong> 个单位" in page
    page = c.get(UNITS, {"sort": "overdue"}).content.decode()
    table = page[page.index('id="unit-table"') :]
    assert table.index("上海垣信卫星科技有限公司") < table.index("区科委")
    unit = ResponsibleUnit.objects.get(name="上海垣信卫星科技有限公司")
    unit.members.add(personas.carol)
    page = c.get(f"{UNITS}{unit.pk}/").content.decode()
    assert "任务 2 项，已完成 0 项" in page and "逾期 1 项" in page
    assert "卫星互联网产业高地建设" in page and "新一代移动通信项目建设" in page and "carol" in page
    page = c.get(f"{UNITS}{unit.pk}/", {"overdue": "1"}).content.decode()
    assert "共 <strong>1</strong> 项任务" in page and "新一代移动通信项目建设" not in page
    assert f"unit={unit.pk}" in page  # the export link keeps the unit
    kewei = ResponsibleUnit.objects.get(name="区科委")
    assert "共 <strong>23</strong> 项任务" in c.get(f"{UNITS}{kewei.pk}/").content.decode()


def test_export_opens_and_has_the_rows(client, personas, task):
    services.add_note(
        task, date=timezone.localdate(), text='=HYPERLINK("http://x")', progress=10, author=personas.carol
    )
    PlanTask.objects.filter(kind="work_item", number=1).update(
        deadline=timezone.localdate() - timedelta(days=1)
    )
    response = as_(client, personas.leo).get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["计划任务", "说明"]
    rows = list(workbook["计划任务"].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[:6] == ("文件", "位置", "类别", "序号", "分类", "名称") and len(body) == 36
    by_title = {row[5]: dict(zip(header, row, strict=True)) for row in body}
    row = by_title["卫星互联网产业高地建设"]
    assert row["实施周期"] == "2025-2026年" and row["进度（%）"] == 10 and row["状态"] == "推进中"
    assert row["最近进展"] == '\'=HYPERLINK("http://x")'  # escaped: never a formula
    assert row["完成期限"].date().isoformat() == "2026-12-31"
    assert by_title["推动重大规划和政策落地见效"]["是否逾期"] == "逾期"
    assert by_title["政策宣贯"]["分类"] == "政务服务"
    notes = [r[0] for r in workbook["说明"].iter_rows(values_only=True)]
    assert any("逾期：" in n for n in notes) and any("筛选条件：无" in n for n in notes)
    # The export follows the list's filters.
    response = as_(client, personas.carol).get(EXPORT, {"kind": "service", "q": "服务"})
    workbook = load_workbook(io.BytesIO(response.content))
    body = list(workbook["计划任务"].iter_rows(values_only=True))[1:]
    # 服务 in the title or the content: 政策宣贯, 人才公寓服务, 知识产权, 法律服务, 检验检测, 中试验证.
    assert {row[2] for row in body} == {"服务事项"} and len(body) == 6
    notes = [r[0] for r in workbook["说明"].iter_rows(values_only=True)]
    assert any("类别：服务事项" in n and "关键词“服务”" in n for n in notes)


def test_the_main_menu_marks_the_section_open(client, personas):
    client.force_login(personas.leo)
    tasks_page = client.get("/indicators/tasks/").content.decode()
    assert re.search(r'href="/indicators/tasks/" class="active">计划任务', tasks_page)
    assert re.search(r'href="/indicators/" >统计监测', tasks_page)
    dashboard = client.get("/indicators/").content.decode()
    assert re.search(r'href="/indicators/" class="active">统计监测', dashboard)
    assert re.search(r'href="/indicators/tasks/" >计划任务', dashboard)


def test_the_note_form_offers_today_in_the_date_picker(client, personas, task):
    client.force_login(personas.carol)
    page = client.get(f"/indicators/tasks/{task.pk}/").content.decode()
    # The picker takes only YYYY-MM-DD; a zh-hans rendering would leave it empty.
    assert re.search(rf'type="date" name="date" value="{timezone.localdate():%Y-%m-%d}"', page)
