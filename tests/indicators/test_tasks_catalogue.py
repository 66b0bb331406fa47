"""The plan tasks loaded from catalogue/tasks.yaml, checked against the documents' text (docs/sources).

The text files are found by the document number (文号) the Document label begins with, not by their file
names: docs/sources/README.md gives the names of 001 and 003 the other way round (the 工作要点 is in
003_24d1a3d8067cc18f.txt, the 若干意见 in 001_c60c974973587176.txt)."""

import re
from datetime import date
from pathlib import Path

import pytest

from kechuang.indicators import catalogue
from kechuang.indicators.models import Document, PlanTask, ResponsibleUnit, TaskKind, TaskNote, TaskStatus

SOURCES = Path(__file__).resolve().parents[2] / "docs" / "sources"
ORIGINAL_UNITS = "\n\n实施主体（原文）："


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def document_text(document: str) -> str:
    """The text of the document, found by its 文号 (e.g. 沪松府〔2025〕80号) near the top of a file."""
    number = Document(document).label.split("《")[0]
    found = [
        path for path in SOURCES.glob("*.txt") if number in squeeze(path.read_text(encoding="utf-8")[:600])
    ]
    assert len(found) == 1, (document, number, found)
    return found[0].read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def texts():
    return {document: squeeze(document_text(document)) for document in ("001", "004")}


@pytest.mark.django_db
def test_counts_loaded():
    counts = {kind: PlanTask.objects.filter(kind=kind).count() for kind in TaskKind.values}
    assert counts == {"reform_task": 5, "key_project": 6, "service": 10, "work_item": 15}
    assert PlanTask.objects.count() == 36
    assert set(PlanTask.objects.filter(document="004").values_list("kind", flat=True)) == {
        "reform_task",
        "key_project",
        "service",
    }
    assert set(PlanTask.objects.filter(document="001").values_list("kind", flat=True)) == {"work_item"}
    for kind, n in counts.items():
        assert sorted(PlanTask.objects.filter(kind=kind).values_list("number", flat=True)) == list(
            range(1, n + 1)
        )


@pytest.mark.django_db
def test_titles_contents_and_units_occur_in_the_documents(texts):
    for task in PlanTask.objects.prefetch_related("units"):
        text = texts[task.document]
        assert squeeze(task.title) in text, task
        content, _, original_units = task.content.partition(ORIGINAL_UNITS)
        assert squeeze(content) in text, task
        if original_units:
            assert original_units.endswith("等") and squeeze(original_units) in text, task
        for unit in task.units.all():
            assert squeeze(unit.name) in text, (task, unit)
            assert not unit.name.endswith("等"), unit
        assert set(task.units_text.split("、")) == {unit.name for unit in task.units.all()}, task
        if task.category:
            assert squeeze(task.category) in text, task


@pytest.mark.django_db
def test_work_items_follow_their_numbering_in_the_document(texts):
    numerals = "一二三四五六七八九十"
    text = texts["001"]
    for task in PlanTask.objects.filter(kind="work_item"):
        n = task.number
        numeral = numerals[n - 1] if n <= 10 else "十" + numerals[n - 11]
        assert f"（{numeral}）{squeeze(task.title)}。" in text, task
        assert task.place.endswith(f"（{numeral}）")
        assert list(task.units.values_list("name", flat=True)) == ["区科委"]
        assert task.deadline == date(2026, 12, 31)


@pytest.mark.django_db
def test_a_few_tasks_as_the_documents_write_them():
    def task(kind, number):
        return PlanTask.objects.prefetch_related("units").get(kind=kind, number=number)

    def units(t):
        return sorted(u.name for u in t.units.all())

    t = task("reform_task", 1)
    assert (t.title, t.place, units(t), t.document) == (
        "体制机制改革创新行动",
        "附件2 序号1",
        ["区科委"],
        "004",
    )
    t = task("reform_task", 4)
    assert units(t) == sorted(["区科委", "区经委", "区市场监管局"])
    assert t.units_text == "区科委、区经委、区市场监管局"
    t = task("reform_task", 5)
    assert units(t) == sorted(["区科委", "区科创发展办", "区人才局", "科创集团"])
    t = task("key_project", 1)
    assert t.title == "高质量孵化器培育建设" and t.period_text == "2025-2026年"
    assert units(t) == sorted(["中科钱江源科技产业发展有限公司", "上海联辰千帆科技服务有限公司"])
    assert t.content.endswith(
        "实施主体（原文）：中科钱江源科技产业发展有限公司、上海联辰千帆科技服务有限公司等"
    )
    assert (t.start_date, t.deadline) == (date(2025, 1, 1), date(2026, 12, 31))
    t = task("key_project", 5)
    assert units(t) == sorted(["佘山镇", "区科委", "相关科研机构"])
    t = task("key_project", 6)
    assert t.title == "长三角 G60科创之眼项目建设" and "实施主体（原文）" not in t.content
    assert PlanTask.objects.filter(kind="key_project", period_text="2025-2026年").count() == 6
    t = task("service", 1)
    assert (t.category, t.title, units(t)) == ("政务服务", "政策宣贯", sorted(["区科委", "各子园"]))
    t = task("service", 4)
    assert (t.category, t.title) == ("公共服务", "人才公寓服务")
    assert units(t) == sorted(["区人才局", "区住房保障房屋管理局", "各子园"])
    t = task("service", 10)
    assert (t.category, t.title, units(t)) == ("专业服务", "检验评估", ["G60商用密码产业基地"])
    assert sorted(set(PlanTask.objects.filter(kind="service").values_list("category", flat=True))) == [
        "专业服务",
        "公共服务",
        "政务服务",
    ]
    t = task("work_item", 1)
    assert t.title == "推动重大规划和政策落地见效"
    assert t.place == "一、深化科技体制改革，提升科技创新整体效能（一）"
    assert task("work_item", 15).title == "建设多元优质科普阵地"
    assert not PlanTask.objects.exclude(deadline=date(2026, 12, 31)).exists()
    assert not ResponsibleUnit.objects.filter(name__endswith="等").exists()


@pytest.mark.django_db
def test_sync_again_keeps_what_officers_recorded():
    t = PlanTask.objects.get(kind="service", number=3)
    PlanTask.objects.filter(pk=t.pk).update(status=TaskStatus.IN_PROGRESS, progress=40)
    TaskNote.objects.create(task=t, date=date(2025, 9, 1), text="已启动", progress=40)
    catalogue.catalogue_sync()
    t.refresh_from_db()
    assert (t.status, t.progress, t.notes.count()) == ("in_progress", 40, 1)
    assert PlanTask.objects.count() == 36
