"""The documented figures (kechuang/indicators/catalogue) against the source documents (docs/sources): every figure
the documents give is loaded, exactly as printed, nothing else is, each with words of its document; loading is
idempotent, and a broken catalogue entry is refused with a message that names it.

tests/indicators/document_figures.yaml lists the figures, read from the documents independently of the catalogue.
"""

import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from kechuang.indicators import catalogue
from kechuang.indicators.catalogue import CatalogueError, catalogue_sync
from kechuang.indicators.models import Document, DocumentedFigure, FigureKind, Indicator, Target

SOURCES = Path(__file__).resolve().parents[2] / "docs" / "sources"
DOCUMENTS = yaml.safe_load((Path(__file__).parent / "document_figures.yaml").read_text(encoding="utf-8"))
FILES = {entry["document"]: entry["file"] for entry in DOCUMENTS}
# (document, place, printed, value, indicator code, year, kind)
ROWS = [(entry["document"], *row) for entry in DOCUMENTS for row in entry["figures"]]
COMPARATORS = {"=", "≥", "≤", "约", "区间"}


def source(document: str) -> str:
    return (SOURCES / FILES[document]).read_text(encoding="utf-8")


def printed(text: str) -> re.Pattern:
    """The value as printed, found in a quote: the document may put spaces between a number and the words around
    it ("不少于 18 家" for 不少于18), never inside a number, and a number is not part of a longer one."""
    runs = re.findall(r"[\d.%-]+|[^\d.%-]+", text)
    return re.compile(r"(?<![\d.])" + r"\s*".join(re.escape(run) for run in runs) + r"(?![\d.])")


def loaded() -> dict[tuple, DocumentedFigure]:
    return {
        (f.document, f.indicator.code, f.year, f.kind, f.text): f
        for f in DocumentedFigure.objects.select_related("indicator")
    }


# --- the fixture itself ------------------------------------------------------------------------------------------


def test_fixture_rows_are_distinct_and_well_formed():
    keys = Counter((document, code, year, kind, text) for document, _, text, _, code, year, kind in ROWS)
    assert [key for key, n in keys.items() if n > 1] == []
    assert {kind for *_, kind in ROWS} <= set(FigureKind.values)
    assert set(FILES) <= set(Document.values)


def test_each_document_is_the_file_that_carries_its_number():
    """A document is found by its 文号 at the head of its text, not by the file name: 001_… holds 沪松府〔2025〕150号
    (Document "003") and 003_… holds 松科委〔2026〕13号 (Document "001")."""
    heads = {path.name: path.read_text(encoding="utf-8")[:400] for path in SOURCES.glob("*.txt")}
    for document, label in Document.choices:
        number = label.split("《")[0]
        holding = [name for name, head in heads.items() if number in head]
        assert len(holding) == 1, (document, number, holding)
        if document in FILES:
            assert FILES[document] == holding[0], (document, number)


# --- (a) (b) (d): the database holds exactly the fixture ---------------------------------------------------------


@pytest.mark.django_db
def test_every_document_figure_is_loaded_as_printed():
    figures = loaded()
    wrong = []
    for document, place, text, value, code, year, kind in ROWS:
        figure = figures.get((document, code, year, kind, text))
        if figure is None:
            wrong.append(("missing", document, place, text))
            continue
        span = re.fullmatch(r"(\d+)-(\d+)", text)
        expected = (text, Decimal(str(value)), Decimal(span[2]) if span else None)
        if (figure.text, figure.value, figure.value_high) != expected:
            wrong.append(
                ("differs", document, place, expected, (figure.text, figure.value, figure.value_high))
            )
    assert wrong == []


@pytest.mark.django_db
def test_nothing_is_loaded_that_the_documents_do_not_give():
    expected = {(document, code, year, kind, text) for document, _, text, _, code, year, kind in ROWS}
    assert sorted(set(loaded()) - expected) == []
    assert sorted(expected - set(loaded())) == []


@pytest.mark.django_db
def test_figure_counts_per_document():
    expected = Counter(document for document, *_ in ROWS)
    assert expected == {"000": 32, "001": 14, "002": 70, "004": 26}
    assert Counter(DocumentedFigure.objects.values_list("document", flat=True)) == expected
    assert Counter(entry["document"] for entry in catalogue.figures()) == expected


# --- (c): the quotes are the documents' words --------------------------------------------------------------------


@pytest.mark.django_db
def test_every_quote_is_in_its_document_and_holds_the_value():
    texts = {document: source(document) for document in FILES}
    wrong = []
    for figure in DocumentedFigure.objects.select_related("indicator"):
        where = (figure.document, figure.indicator.code, figure.year, figure.kind)
        if figure.document not in texts:
            wrong.append(("no source file", where))
        elif figure.quote not in texts[figure.document]:
            wrong.append(("quote not in the document", where, figure.quote))
        elif not printed(figure.text).search(figure.quote):
            wrong.append(("value not in the quote", where, figure.text, figure.quote))
    assert wrong == []


@pytest.mark.django_db
def test_values_fit_their_indicator():
    wrong = []
    for figure in DocumentedFigure.objects.select_related("indicator"):
        ind = figure.indicator
        where = (figure.document, ind.code, figure.year, figure.kind, figure.text)
        if figure.comparator not in COMPARATORS:
            wrong.append(("comparator", where, figure.comparator))
        if (figure.comparator == "区间") != (figure.value_high is not None):
            wrong.append(("range", where))
        for value in (figure.value, figure.value_high):
            if value is not None and not ind.value_min <= value <= ind.value_max:
                wrong.append(("outside the plausible range", where, value))
        if figure.period_start is not None and figure.period_start >= figure.year:
            wrong.append(("period", where))
    assert wrong == []
    # Every indicator has a figure, a unit, a data source and a plausible range.
    assert not Indicator.objects.filter(figures__isnull=True).exists()
    assert not Indicator.objects.filter(value_min__isnull=True).exists()
    assert (
        not Indicator.objects.filter(unit="").exists()
        and not Indicator.objects.filter(data_source="").exists()
    )


# --- (e): loading again changes nothing --------------------------------------------------------------------------


def snapshot():
    return [list(model.objects.order_by("pk").values()) for model in (Indicator, DocumentedFigure, Target)]


@pytest.mark.django_db
def test_loading_twice_changes_nothing():
    before = snapshot()
    assert before[1]  # the catalogue is there after migrate
    catalogue_sync()
    assert snapshot() == before


# --- (f): a broken entry is refused, naming the file and the entry -----------------------------------------------

INDICATOR = {
    "code": "rd_intensity",
    "name": "全社会研发经费支出占地区生产总值比重",
    "unit": "%",
    "data_source": "区统计局",
}
FIGURE = {
    "indicator": "rd_intensity",
    "kind": "target",
    "year": 2030,
    "text": "6.4%",
    "value": 6.4,
    "place": "二、（二）发展目标",
    "quote": "全社会研发经费支出占地区生产总值比重达 6.4%",
}


@pytest.fixture
def broken_catalogue(tmp_path, monkeypatch):
    """A catalogue directory of our own; the cached readings are dropped before and after."""

    def clear():
        for reader in (catalogue.indicators, catalogue.figures, catalogue.tasks):
            reader.cache_clear()

    def write(name, entries):
        (tmp_path / name).write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")

    monkeypatch.setattr(catalogue, "HERE", tmp_path)
    clear()
    write("indicators.yaml", [INDICATOR])
    yield write
    clear()


MISSING = object()  # the entry lacks the field


@pytest.mark.parametrize(
    "broken, message",
    [
        ({"valu": 6.4}, r"figures-000\.yaml 第 2 项（rd_intensity 2030）：未知字段 \['valu'\]"),
        (
            {"indicator": "rd_intensty"},
            r"figures-000\.yaml 第 2 项（rd_intensty 2030）：指标 'rd_intensty' 不在 indicators\.yaml 中",
        ),
        ({"kind": "goal"}, r"figures-000\.yaml 第 2 项（rd_intensity 2030）：类别 'goal' 不在"),
        ({"quote": MISSING}, r"figures-000\.yaml 第 2 项（rd_intensity 2030）：缺少字段 \['quote'\]"),
    ],
    ids=["unknown field", "unknown indicator", "bad kind", "missing field"],
)
def test_a_broken_figure_is_refused(broken_catalogue, broken, message):
    entry = {key: value for key, value in {**FIGURE, **broken}.items() if value is not MISSING}
    broken_catalogue("figures-000.yaml", [{**FIGURE, "year": 2025}, entry])
    with pytest.raises(CatalogueError, match=message):
        catalogue.figures()


def test_a_broken_indicator_is_refused(broken_catalogue):
    broken_catalogue(
        "indicators.yaml", [INDICATOR, {**INDICATOR, "code": "tech_contract_turnover", "units": "亿元"}]
    )
    with pytest.raises(
        CatalogueError, match=r"indicators\.yaml 第 2 项（tech_contract_turnover）：未知字段 \['units'\]"
    ):
        catalogue.indicators()


def test_a_sound_catalogue_directory_loads(broken_catalogue):
    """The fixture's own directory is read, not the real catalogue (so the refusals above are of our entries)."""
    broken_catalogue("figures-000.yaml", [FIGURE])
    assert [(entry["indicator"], entry["document"]) for entry in catalogue.figures()] == [
        ("rd_intensity", "000")
    ]
