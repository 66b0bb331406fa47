"""The policy library's catalogue (kechuang/policies/catalogue): the five source documents, their full texts as
published, their articles cut from them, loaded by every migrate and idempotent."""

from pathlib import Path

import pytest

from kechuang.enterprises.choices import QualificationKind
from kechuang.policies import catalogue
from kechuang.policies import columns as cols
from kechuang.policies.models import Article, PolicyDocument, PolicyItem

SOURCES = Path(__file__).resolve().parents[2] / "docs" / "sources"


def source_by_number(number: str) -> str:
    """A source document's text, found by the 文号 at its head (the file names do not say which is which)."""
    for path in SOURCES.glob("*.txt"):
        text = path.read_text(encoding="utf-8")
        if number in text[:1000]:
            return text
    raise AssertionError(f"no source document {number}")


@pytest.mark.parametrize("entry", catalogue.documents(), ids=lambda e: e["key"])
def test_every_full_text_is_the_source_document_unchanged(entry):
    assert catalogue.full_text(entry) == source_by_number(entry["number"])


@pytest.mark.parametrize("entry", catalogue.documents(), ids=lambda e: e["key"])
def test_every_article_is_quoted_from_its_document(entry):
    text = "".join(catalogue.full_text(entry).split())
    for article in catalogue.articles(entry):
        assert article.title.replace("**", "") and article.text
        # Lines the PDF split are joined again; the words are the document's, in order.
        assert "".join(article.text.split()) in text, article.number


def test_the_articles_of_the_opinions_are_its_eleven():
    entry = next(e for e in catalogue.documents() if e["number"] == "沪松府〔2025〕150号")
    articles = catalogue.articles(entry)
    assert [a.number for a in articles] == [f"（{n}）" for n in "一 二 三 四 五 六 七 八 九 十 十一".split()]
    assert articles[0].title == "支持高新技术企业发展"
    assert articles[0].text.startswith("支持高新技术企业发展。鼓励企业积极申报高新技术企业")
    # Article (六) runs across a page break in the PDF: "加\n\n快科创成果转移转化。"
    assert articles[5].text.endswith(
        "以多种形式把科技成果的所有权或长期使用权赋予科研团队，加快科创成果转移转化。"
    )


def test_the_work_points_hold_the_financing_article_that_names_premium_subsidies_and_interest_subsidies():
    entry = next(e for e in catalogue.documents() if e["number"] == "松科委〔2026〕13号")
    articles = {a.number: a for a in catalogue.articles(entry)}
    assert len(articles) == 15
    assert articles["（八）"].title == "完善科技金融服务体系"
    assert "对存量获贷企业做好保费补贴、贴息政策对接" in articles["（八）"].text


def test_planning_documents_number_articles_by_chapter():
    entry = next(e for e in catalogue.documents() if e["number"] == "沪松府〔2026〕67号")
    numbers = [a.number for a in catalogue.articles(entry)]
    assert numbers[:4] == ["一（一）", "一（二）", "二（一）", "二（二）"]
    assert "三（二）" in numbers  # written with half-width brackets in the source


@pytest.mark.django_db
def test_migrate_loads_the_library_and_sync_is_idempotent():
    assert PolicyDocument.objects.filter(catalogue_key__isnull=False).count() == 5
    opinions = PolicyDocument.objects.get(number="沪松府〔2025〕150号")
    assert opinions.issuer == "上海市松江区人民政府" and opinions.status == "in_force"
    assert opinions.source == "松江区人民政府公开文件（docs/sources/001_c60c974973587176.txt）"
    assert PolicyDocument.objects.get(number="松科委〔2022〕2号").status == "expired"
    articles = Article.objects.count()
    catalogue.catalogue_sync()
    catalogue.catalogue_sync()
    assert PolicyDocument.objects.filter(catalogue_key__isnull=False).count() == 5
    assert Article.objects.count() == articles


@pytest.mark.django_db
def test_an_article_a_policy_item_cites_is_kept_when_the_text_no_longer_has_it():
    opinions = PolicyDocument.objects.get(number="沪松府〔2025〕150号")
    extra = Article.objects.create(document=opinions, number="（十二）", title="旧条款", text="旧", order=99)
    cited = Article.objects.create(document=opinions, number="（十三）", title="被引用", text="旧", order=100)
    PolicyItem.objects.create(
        document=opinions,
        article=cited,
        name="x",
        kind="award",
        formula="1",
        effective_from="2026-01-01",
        workflow_id=_workflow_id(),
        state="draft",
    )
    catalogue.catalogue_sync()
    assert not Article.objects.filter(pk=extra.pk).exists()
    assert Article.objects.filter(pk=cited.pk).exists()


def _workflow_id():
    from kechuang.policies.workflows import ITEM
    from kechuang.workflows import engine

    return engine.current(ITEM).pk


def test_the_qualification_kinds_match_the_registry():
    assert cols.QUALIFICATION_KINDS == dict(QualificationKind.choices)
