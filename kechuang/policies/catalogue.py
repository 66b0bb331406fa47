"""The policy documents of the source documents, loaded from catalogue/documents.yaml and catalogue/texts/.

`catalogue_sync` makes the database hold exactly these documents (matched by their catalogue key) with their
articles, cut from the full text (idempotent; run after every migrate). Documents officers add, and the policy
items built on any document, are never touched; an article a policy item cites is kept (and updated) rather than
deleted.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

HERE = Path(__file__).resolve().parent / "catalogue"
FIELDS = {
    "key",
    "number",
    "title",
    "issuer",
    "issued_on",
    "effective_from",
    "effective_to",
    "status",
    "validity",
    "summary",
    "text",
    "source",
    "articles",
}
REQUIRED = {"key", "number", "title", "issuer", "issued_on", "status", "text", "source", "articles"}
ARTICLE_FIELDS = {"numbering", "body_after", "end_before"}

_ARTICLE = re.compile(r"^\s*[（(]([一二三四五六七八九十]+)[）)]\s*(.*)$")  # the PDFs use both widths
_CHAPTER = re.compile(r"^\s*([一二三四五六七八九十]+)、\s*(\S.*)$")
_ITEM = re.compile(r"^\s*\d+[.．、]")
_SENTENCE_END = ("。", "；", "：", "！", "？", "”")
TITLE_MAX = 60


class CatalogueError(ValueError):
    """A catalogue entry that does not hold what the loader expects: names the entry and the field."""


@dataclass(frozen=True)
class ArticleText:
    number: str
    title: str
    text: str


@cache
def documents() -> tuple[dict[str, Any], ...]:
    entries = yaml.safe_load((HERE / "documents.yaml").read_text(encoding="utf-8")) or []
    seen = set()
    for number, entry in enumerate(entries, 1):
        where = f"documents.yaml 第 {number} 项（{entry.get('key', '?')}）"
        unknown = set(entry) - FIELDS
        if unknown:
            raise CatalogueError(f"{where}：未知字段 {sorted(unknown)}，可用字段为 {sorted(FIELDS)}")
        missing = REQUIRED - set(entry)
        if missing:
            raise CatalogueError(f"{where}：缺少字段 {sorted(missing)}")
        if entry["key"] in seen:
            raise CatalogueError(f"{where}：代码重复")
        seen.add(entry["key"])
        for key in ("issued_on", "effective_from", "effective_to"):
            if key in entry and not isinstance(entry[key], dt.date):
                raise CatalogueError(f"{where}：{key} {entry[key]!r} 须为日期（YYYY-MM-DD）")
        if entry["status"] not in ("in_force", "expired", "repealed"):
            raise CatalogueError(f"{where}：效力状态 {entry['status']!r} 须为 in_force、expired 或 repealed")
        if not (HERE / "texts" / entry["text"]).exists():
            raise CatalogueError(f"{where}：全文文件 texts/{entry['text']} 不存在")
        options = entry["articles"]
        if not isinstance(options, dict) or set(options) - ARTICLE_FIELDS:
            raise CatalogueError(f"{where}：articles 须为对象，字段 {sorted(ARTICLE_FIELDS)}")
        if options.get("numbering") not in ("continuous", "chapter"):
            raise CatalogueError(f"{where}：articles.numbering 须为 continuous 或 chapter")
    return tuple(entries)


def full_text(entry: dict[str, Any]) -> str:
    return (HERE / "texts" / entry["text"]).read_text(encoding="utf-8")


def articles(entry: dict[str, Any]) -> list[ArticleText]:
    """The articles of a catalogue document, cut from its full text: each （一）… paragraph and what follows it up
    to the next article or chapter heading. Lines the PDF extraction split mid-sentence are joined again."""
    text = full_text(entry)
    options = entry["articles"]
    where = f"{entry['key']} 的全文"
    start = text.find(options.get("body_after", "")) if options.get("body_after") else 0
    if start < 0:
        raise CatalogueError(f"{where}中找不到 body_after“{options['body_after']}”")
    start += len(options.get("body_after", ""))
    end = text.find(options["end_before"], start) if options.get("end_before") else len(text)
    if end < 0:
        raise CatalogueError(f"{where}中找不到 end_before“{options['end_before']}”")
    body = text[start:end]
    found: list[tuple[str, list[str]]] = []
    chapter = ""
    current: list[str] | None = None
    for line in body.splitlines():
        if not line.strip():
            continue
        chapter_match = _CHAPTER.match(line)
        article_match = _ARTICLE.match(line)
        if article_match:
            number = f"（{article_match[1]}）"
            if options["numbering"] == "chapter":
                number = f"{chapter}{number}"
            current = [article_match[2].strip()]
            found.append((number, current))
        elif chapter_match and len(line.strip()) <= 60 and not line.strip().endswith("。"):
            chapter, current = chapter_match[1], None
        elif current is not None:
            current.append(line.strip())
    result = []
    numbers = set()
    for number, lines in found:
        if number in numbers:
            raise CatalogueError(f"{where}：条款号 {number} 重复")
        numbers.add(number)
        title, paragraph = _split_title(lines)
        result.append(ArticleText(number, title, paragraph))
    if not result:
        raise CatalogueError(f"{where}中没有找到条款（（一）…）")
    return result


def _split_title(lines: list[str]) -> tuple[str, str]:
    """(title, text): the words up to the first 。 of the first line when they are short (（一）支持高新技术企业发展。
    …), otherwise the first line as a heading (（一）体制机制改革创新行动)."""
    first = lines[0]
    stop = first.find("。")
    if 0 < stop <= TITLE_MAX:
        return first[:stop].replace("**", ""), _joined(lines)
    if len(first) <= TITLE_MAX and len(lines) > 1:
        return first.replace("**", ""), _joined(lines[1:])
    return first[:TITLE_MAX], _joined(lines)


def _joined(lines: list[str]) -> str:
    """Lines as paragraphs: a line ending a sentence, or followed by a numbered item, ends its paragraph."""
    text = ""
    for index, line in enumerate(lines):
        if index and (text.endswith(_SENTENCE_END) or _ITEM.match(line) or _ITEM.match(lines[index - 1])):
            text += "\n"
        text += line
    return text


@transaction.atomic
def catalogue_sync() -> None:
    """Make the database hold the catalogue's documents and their articles."""
    from kechuang.policies.models import Article, PolicyDocument

    for entry in documents():
        document, _ = PolicyDocument.objects.update_or_create(
            catalogue_key=entry["key"],
            defaults={
                "title": entry["title"],
                "issuer": entry["issuer"],
                "number": entry["number"],
                "issued_on": entry["issued_on"],
                "effective_from": entry.get("effective_from"),
                "effective_to": entry.get("effective_to"),
                "status": entry["status"],
                "summary": " ".join(entry.get("summary", "").split())
                + (f"（有效期：{entry['validity']}）" if entry.get("validity") else ""),
                "full_text": full_text(entry),
                "source": entry["source"],
            },
        )
        kept = []
        for order, article in enumerate(articles(entry)):
            row, _ = Article.objects.update_or_create(
                document=document,
                number=article.number,
                defaults={"title": article.title, "text": article.text, "order": order},
            )
            kept.append(row.pk)
        # An article no longer cut from the text goes, unless a policy item cites it.
        Article.objects.filter(document=document).exclude(pk__in=kept).filter(items__isnull=True).delete()
