"""The search index of 双向发榜: what the pages and the API call to search postings and recommend matches.

What is indexed (`documents`). Published postings: demands (需求: title, keywords, description; field; park =
its enterprise's park), achievements (成果: title, keywords, abstract; field; TRL) and talent profiles (专家团队:
name, keywords, bio; field); and the enterprises of the registry (kind "enterprise": name, main business, 高新技术
领域, park), active ones that state a main business — an enterprise without one has nothing to match on. A
posting's tokens are the ones its service stored (`tokens_for`, in Posting.tokens) unless the tokenizer has
changed since (`tokenizer.VERSION`), when they are made afresh; enterprises are tokenized when indexed.

One index per process (kechuang.search.index.BM25Ranker, Django-free), built on first use and kept in step:
- postings: every service that writes or deletes a posting calls `record_change` in its transaction
  (an IndexChange row). Before each query the index applies the changes after the last one it has seen: one
  indexed query, returning that one row, when nothing changed. A changed posting is read again: upserted when
  published, dropped otherwise. The index is built again from the database instead when the change it last
  saw is no longer in the log (the log was compacted by `kechuang matching_reindex`, or a test's transaction
  rolled it back), when the first changes arrive after a build over an empty log, or when there are more than
  MAX_CHANGES to apply.
- enterprises: the registry is written in bulk by its import, which does not call `record_change`; so, at most
  every ENTERPRISE_CHECK_SECONDS and only when enterprises are asked for, the index compares the registry's
  count and latest `updated_at` with what it saw, and reads again the enterprises changed since (and their
  demands, whose park may have changed). `record_change("enterprise", pk)` makes one change visible at once.
- `rebuild()` builds the process's index from the database; `kechuang matching_reindex` does so, stores fresh
  tokens for postings whose tokens are stale, and compacts the change log, which makes every other process
  rebuild at its next query.

The functions the pages and the API use: `recommend_for_demand`, `recommend_for_achievement` (each Match explains
itself: the shared terms and the field), `search` (Hits with the title and a snippet escaped, matched terms in
<mark>), and the errors they raise: `QueryError` (Chinese message) for a query or a filter that cannot be run.
"""

from __future__ import annotations

import html
import logging
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Count, Max
from django.utils.safestring import SafeString, mark_safe

from kechuang.enterprises.choices import EnterpriseStatus, HitechField
from kechuang.enterprises.models import Enterprise, Park
from kechuang.matching.models import Achievement, Demand, IndexChange, PostingState, TalentProfile
from kechuang.search import tokenizer
from kechuang.search.index import BM25Ranker, Document, Filters, Query, QueryError, Ranker, Result

__all__ = [
    "Hit",
    "Match",
    "QueryError",
    "SearchPage",
    "forget",
    "rebuild",
    "reindex",
    "recommend_for_achievement",
    "recommend_for_demand",
    "record_change",
    "search",
    "tokens_for",
]

log = logging.getLogger(__name__)

KINDS = ("demand", "achievement", "talent", "enterprise")
KIND_LABELS = {"demand": "技术需求", "achievement": "科技成果", "talent": "专家团队", "enterprise": "企业"}
POSTINGS = {"demand": Demand, "achievement": Achievement, "talent": TalentProfile}
TEXT_FIELD = {"demand": "description", "achievement": "abstract", "talent": "bio"}
FIELD_LABELS = dict(HitechField.choices)
REBUILD_MARK = "rebuild"  # an IndexChange of this kind: every process builds its index again

MAX_CHANGES = 5_000  # more changes than this since the last query: build again rather than apply them
ENTERPRISE_CHECK_SECONDS = 60
EXPLAIN_TERMS = 5  # shared terms named in an explanation
SNIPPET_CHARS = 120
MAX_K = 100
MAX_LIMIT = 100


# —— What callers get ————————————————————————————————————————————————————————————————————————————————————


@dataclass(frozen=True)
class Match:
    kind: str
    pk: int
    score: float
    terms: tuple[str, ...]  # the shared terms, most telling first (sub-words of a longer one left out)
    field_match: bool
    explanation: str  # Chinese, e.g. "共同关键词：锂离子电池、热管理；同属领域：新能源与节能"


@dataclass
class Hit:
    kind: str
    pk: int
    score: float
    title_html: SafeString  # the title, HTML-escaped, matched terms in <mark>
    snippet_html: SafeString  # a passage of the text around the first match, escaped likewise
    terms: tuple[str, ...]


@dataclass
class SearchPage:
    hits: list[Hit]
    total: int
    terms: tuple[str, ...]  # the query's terms, as searched


def tokens_for(title: str, keywords: str, text: str) -> dict:
    """The tokens a posting is matched on; services store them in Posting.tokens when the text changes."""
    return tokenizer.document_tokens(title or "", keywords or "", text or "")


def record_change(kind: str, object_id: int, *, deleted: bool = False) -> None:
    """Note that a posting (or an enterprise) was written or deleted; call it in the same transaction."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: expected one of {KINDS}")
    IndexChange.objects.create(kind=kind, object_id=int(object_id), deleted=deleted)


# —— The documents ———————————————————————————————————————————————————————————————————————————————————————


def _fresh(tokens) -> bool:
    return isinstance(tokens, dict) and tokens.get("v") == tokenizer.VERSION


def posting_documents(
    kind: str, pks: Iterable[int] | None = None, *, stale: list | None = None
) -> list[Document]:
    """The published postings of `kind` (all, or those of `pks`) as documents. Postings whose stored tokens are
    stale are tokenized afresh; their (pk, tokens) are appended to `stale` when given."""
    model = POSTINGS[kind]
    queryset = model.objects.filter(state=PostingState.PUBLISHED)
    if pks is not None:
        queryset = queryset.filter(pk__in=list(pks))
    columns = ["pk", "tokens", "field"] + (
        ["enterprise__park_id"] if kind == "demand" else ["trl"] if kind == "achievement" else []
    )
    docs, again = [], []
    for row in queryset.order_by("pk").values_list(*columns).iterator(chunk_size=2000):
        pk, tokens, field = row[0], row[1], row[2]
        meta = {"field": field or ""}
        if kind == "demand":
            meta["park"] = row[3]
        elif kind == "achievement":
            meta["trl"] = row[3]
        if _fresh(tokens):
            docs.append(Document.from_tokens(kind, pk, tokens, **meta))
        else:
            again.append((pk, meta))
    if again:
        texts = {
            pk: (title, keywords, text)
            for pk, title, keywords, text in model.objects.filter(pk__in=[pk for pk, _ in again]).values_list(
                "pk", "title", "keywords", TEXT_FIELD[kind]
            )
        }
        for pk, meta in again:
            tokens = tokens_for(*texts[pk])
            docs.append(Document.from_tokens(kind, pk, tokens, **meta))
            if stale is not None:
                stale.append((kind, pk, tokens))
    return docs


def _enterprises(queryset) -> tuple[list[Document], list[int]]:
    """Documents of the indexable enterprises of `queryset`, and the pks of the others (to drop)."""
    docs, others = [], []
    rows = queryset.values_list("pk", "name", "main_business", "hitech_field", "park_id", "status")
    for pk, name, business, field, park, status in rows.order_by("pk").iterator(chunk_size=2000):
        if status != EnterpriseStatus.ACTIVE or not (business or "").strip():
            others.append(pk)
            continue
        tokens = tokens_for(name, "", business)
        docs.append(Document.from_tokens("enterprise", pk, tokens, field=field or "", park=park))
    return docs, others


def enterprise_documents(pks: Iterable[int] | None = None) -> tuple[list[Document], list[int]]:
    queryset = Enterprise.objects.all() if pks is None else Enterprise.objects.filter(pk__in=list(pks))
    return _enterprises(queryset)


def _registry_mark() -> tuple[int, object]:
    found = Enterprise.objects.aggregate(n=Count("pk"), last=Max("updated_at"))
    return found["n"], found["last"]


# —— The process's index ——————————————————————————————————————————————————————————————————————————————————


class _ProcessIndex:
    def __init__(self, ranker: Ranker):
        self.ranker = ranker
        self.last_change: tuple[int, object] | None = None  # (id, at) of the last change applied
        self.registry: tuple[int, object] = (0, None)
        self.registry_checked = 0.0
        self.counts: dict[str, int] = {}


_lock = threading.RLock()
_current: _ProcessIndex | None = None


def new_ranker() -> Ranker:
    """The ranker the index uses (change it here to put another ranker behind the same functions)."""
    return BM25Ranker()


def _build(progress: Callable[[str], None] | None = None, stale: list | None = None) -> _ProcessIndex:
    say = progress or (lambda message: None)
    started = time.perf_counter()
    last = IndexChange.objects.order_by("-pk").values_list("pk", "at").first()
    registry = _registry_mark()
    docs: list[Document] = []
    counts = {}
    for kind in POSTINGS:
        found = posting_documents(kind, stale=stale)
        counts[kind] = len(found)
        docs += found
        say(f"已读取{KIND_LABELS[kind]} {len(found):,} 条")
    enterprises, _ = enterprise_documents()
    counts["enterprise"] = len(enterprises)
    docs += enterprises
    say(f"已读取企业 {len(enterprises):,} 家（有主营业务的存续企业）")
    ranker = new_ranker()
    ranker.build(docs)
    state = _ProcessIndex(ranker)
    state.last_change = last
    state.registry, state.registry_checked = registry, time.monotonic()
    state.counts = counts
    say(f"索引已建立：{len(docs):,} 条，用时 {time.perf_counter() - started:.1f} 秒")
    return state


def rebuild(progress: Callable[[str], None] | None = None) -> dict:
    """Build this process's index from the database; the counts per kind and the seconds it took."""
    global _current
    started = time.perf_counter()
    with _lock:
        _current = _build(progress)
        return {**_current.counts, "seconds": round(time.perf_counter() - started, 3)}


def reindex(*, retokenize: bool = False, progress: Callable[[str], None] | None = None) -> dict:
    """What `kechuang matching_reindex` does: store fresh tokens for postings whose tokens are stale (every
    posting with `retokenize`), compact the change log (every other process builds its index again at its next
    query), and build this process's index. The counts and seconds."""
    from django.db import transaction

    say = progress or (lambda message: None)
    started = time.perf_counter()
    written = {}
    for kind, model in POSTINGS.items():
        batch, count = [], 0
        rows = model.objects.order_by("pk").only("pk", "title", "keywords", TEXT_FIELD[kind], "tokens")
        for posting in rows.iterator(chunk_size=1000):
            if retokenize or not _fresh(posting.tokens):
                posting.tokens = tokens_for(
                    posting.title, posting.keywords, getattr(posting, TEXT_FIELD[kind])
                )
                batch.append(posting)
            if len(batch) >= 500:
                model.objects.bulk_update(batch, ["tokens"])
                count += len(batch)
                batch = []
        if batch:
            model.objects.bulk_update(batch, ["tokens"])
            count += len(batch)
        written[kind] = count
        say(f"{KIND_LABELS[kind]}：重新分词 {count:,} 条")
    with transaction.atomic():
        last = IndexChange.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        removed, _ = IndexChange.objects.filter(pk__lte=last).delete()
        IndexChange.objects.create(kind=REBUILD_MARK, object_id=0)
    say(f"已清理检索变更记录 {removed:,} 条；其他进程将在下次检索时重建索引")
    counts = rebuild(progress)
    return {
        "retokenized": written,
        "changes_removed": removed,
        **counts,
        "seconds": round(time.perf_counter() - started, 3),
    }


def forget() -> None:
    """Drop this process's index; the next query builds it again (tests call it between tests)."""
    global _current
    with _lock:
        _current = None


def _apply(state: _ProcessIndex, changed: dict[str, set[int]]) -> None:
    for kind, pks in changed.items():
        if not pks:
            continue
        if kind == "enterprise":
            docs, _ = enterprise_documents(pks)
            # their demands' park may have changed too
            changed_demands = set(
                Demand.objects.filter(enterprise_id__in=pks, state=PostingState.PUBLISHED).values_list(
                    "pk", flat=True
                )
            )
            if changed_demands:
                state.ranker.upsert(posting_documents("demand", changed_demands))
        else:
            docs = posting_documents(kind, pks)
        found = {d.pk for d in docs}
        state.ranker.delete([(kind, pk) for pk in set(pks) - found])
        if docs:
            state.ranker.upsert(docs)


def _sync(state: _ProcessIndex, *, enterprises: bool) -> _ProcessIndex:
    """Apply the changes since the last one seen (or build again); see the module's docstring."""
    since = state.last_change[0] if state.last_change else 0
    rows = list(
        IndexChange.objects.filter(pk__gte=since)
        .order_by("pk")
        .values_list("pk", "kind", "object_id", "at")[
            : MAX_CHANGES + 2
        ]  # the last seen one, and one too many
    )
    if state.last_change is None:
        if rows:  # the first changes since a build over an empty log: build again, once
            return _build()
    else:
        if not rows or (rows[0][0], rows[0][3]) != tuple(state.last_change):
            log.info("search index: the change log no longer holds change %s; building again", since)
            return _build()
        rows = rows[1:]
    if len(rows) > MAX_CHANGES or any(kind == REBUILD_MARK for _, kind, _, _ in rows):
        return _build()
    if rows:
        changed: dict[str, set[int]] = {}
        for _, kind, object_id, _ in rows:
            changed.setdefault(kind, set()).add(object_id)
        _apply(state, changed)
        state.last_change = (rows[-1][0], rows[-1][3])
    if enterprises and time.monotonic() - state.registry_checked > ENTERPRISE_CHECK_SECONDS:
        _check_registry(state)
    return state


def _check_registry(state: _ProcessIndex) -> None:
    mark = _registry_mark()
    state.registry_checked = time.monotonic()
    if mark == state.registry:
        return
    count, last = state.registry
    if mark[0] < count or last is None:
        # enterprises were deleted (or there were none): read them all again
        docs, _ = enterprise_documents()
        indexed = {pk for kind, pk in state.ranker.keys() if kind == "enterprise"}
        state.ranker.delete([("enterprise", pk) for pk in indexed - {d.pk for d in docs}])
        state.ranker.upsert(docs)
    else:
        pks = list(Enterprise.objects.filter(updated_at__gte=last).values_list("pk", flat=True))
        _apply(state, {"enterprise": set(pks)})
    state.registry = mark


def check_registry_now() -> None:
    """Compare the registry with the index now rather than within ENTERPRISE_CHECK_SECONDS (tests, imports)."""
    with _lock:
        if _current is not None:
            _check_registry(_current)


def _ranker(*, enterprises: bool = False) -> Ranker:
    global _current
    with _lock:
        _current = _build() if _current is None else _sync(_current, enterprises=enterprises)
        return _current.ranker


# —— Checking what callers ask for ——————————————————————————————————————————————————————————————————————


def _kinds(kinds: Sequence[str] | str) -> frozenset[str]:
    if isinstance(kinds, str):
        kinds = (kinds,)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        allowed = "、".join(f"{k}（{KIND_LABELS[k]}）" for k in KINDS)
        raise QueryError(f"未知的类别：{'、'.join(map(str, unknown)) or '（空）'}；可选：{allowed}")
    return frozenset(kinds)


def _field(field: str | None) -> frozenset[str] | None:
    if field in (None, ""):
        return None
    if field not in FIELD_LABELS:
        raise QueryError(f"未知的技术领域：{field}；可选 01–08（{'、'.join(FIELD_LABELS.values())}）")
    return frozenset({field})


def _trl(trl_min: int | str | None) -> int | None:
    if trl_min in (None, ""):
        return None
    try:
        value = int(trl_min)
    except (TypeError, ValueError):
        value = None
    if value is None or not 1 <= value <= 9 or str(value) != str(trl_min).strip():
        raise QueryError(f"技术成熟度（TRL）下限“{trl_min}”无效：应为 1–9 的整数")
    return value


def _parks(park: Park | int | str | None) -> frozenset[int] | None:
    """A park and its sub-parks, as ids."""
    if park in (None, ""):
        return None
    if not isinstance(park, Park):
        try:
            park = Park.objects.get(pk=int(park))
        except (TypeError, ValueError, Park.DoesNotExist):
            raise QueryError(f"未知的园区：{park}") from None
    return frozenset(park.with_descendants())


def _count(value: int, name: str, label: str, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise QueryError(f"{label} {name}={value!r} 无效：应为 1–{maximum} 的整数")
    return value


# —— Explanations and highlighting ———————————————————————————————————————————————————————————————————————


def _shown_terms(terms: Sequence[str], limit: int = EXPLAIN_TERMS) -> tuple[str, ...]:
    """The shared terms worth naming: those not inside a longer shared term, best first."""
    kept = [t for t in terms if not any(t != other and t in other for other in terms)]
    return tuple(kept[:limit])


def _display(term: str, texts: Sequence[str]) -> str:
    """A term as written in one of the texts (ASCII terms are matched case-folded: "igbt" → "IGBT")."""
    if term.isascii():
        for text in texts:
            found = re.search(re.escape(term), unicodedata.normalize("NFKC", text or ""), re.IGNORECASE)
            if found:
                return found.group(0)
    return term


def explain(terms: Sequence[str], field_match: bool, query_field: str, other_field: str, texts=()) -> str:
    parts = []
    if terms:
        parts.append("共同关键词：" + "、".join(_display(t, texts) for t in terms))
    if field_match:
        parts.append(f"同属领域：{FIELD_LABELS.get(query_field, query_field)}")
    elif query_field and other_field and query_field != other_field:
        parts.append(
            f"领域不同：{FIELD_LABELS.get(query_field, query_field)}／{FIELD_LABELS.get(other_field, other_field)}"
        )
    return "；".join(parts)


def highlight(text: str, terms: Iterable[str], *, snippet: int | None = None) -> SafeString:
    """`text` HTML-escaped, with each occurrence of the terms (matched after NFKC and case-folding) in <mark>;
    with `snippet`, only a passage of about that many characters around the first match (or the start)."""
    text = text or ""
    normal, origin = [], []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKC", ch).casefold():
            normal.append(c)
            origin.append(i)
    spans: list[tuple[int, int]] = []
    terms = sorted({t for t in terms if t}, key=len, reverse=True)
    if terms and normal:
        pattern = re.compile("|".join(re.escape(t) for t in terms))
        for m in pattern.finditer("".join(normal)):
            spans.append((origin[m.start()], origin[m.end() - 1] + 1))
    start, end = 0, len(text)
    if snippet is not None and len(text) > snippet:
        first = spans[0][0] if spans else 0
        start = max(0, min(first - snippet // 4, len(text) - snippet))
        end = start + snippet
    out, position = [], start
    for s, e in spans:
        if e <= start or s < position:
            continue
        if s >= end:
            break
        out.append(html.escape(text[position:s]))
        out.append(f"<mark>{html.escape(text[s : min(e, end)])}</mark>")
        position = min(e, end)
    out.append(html.escape(text[position:end]))
    return mark_safe(("…" if start > 0 else "") + "".join(out) + ("…" if end < len(text) else ""))


# —— Recommendations ——————————————————————————————————————————————————————————————————————————————————————


def _posting_query(kind: str, posting) -> Query:
    tokens = posting.tokens if _fresh(getattr(posting, "tokens", None)) else None
    text = getattr(posting, TEXT_FIELD[kind], "") or ""
    if tokens is None:
        tokens = tokens_for(posting.title, posting.keywords, text)
    raw = f"{posting.title}\n{posting.keywords}\n{text}"
    return Query.from_document(tokens, field=posting.field or "", raw=raw)


def _matches(results: Sequence[Result], query: Query, texts: Sequence[str], fields: dict) -> list[Match]:
    matches = []
    for r in results:
        shown = _shown_terms(r.terms)
        matches.append(
            Match(
                r.kind,
                r.pk,
                round(r.score, 4),
                tuple(_display(t, texts) for t in shown),
                r.field_match,
                explain(shown, r.field_match, query.field, fields.get((r.kind, r.pk), ""), texts),
            )
        )
    return matches


def _fields_of(results: Sequence[Result]) -> dict[tuple[str, int], str]:
    """The field of each result (for "领域不同" in explanations), in one query per kind."""
    out = {}
    by_kind: dict[str, list[int]] = {}
    for r in results:
        by_kind.setdefault(r.kind, []).append(r.pk)
    for kind, pks in by_kind.items():
        if kind == "enterprise":
            rows = Enterprise.objects.filter(pk__in=pks).values_list("pk", "hitech_field")
        else:
            rows = POSTINGS[kind].objects.filter(pk__in=pks).values_list("pk", "field")
        out.update({(kind, pk): field or "" for pk, field in rows})
    return out


def recommend_for_demand(
    demand: Demand,
    *,
    k: int = 10,
    kinds: Sequence[str] = ("achievement", "talent"),
    field: str | None = None,
    trl_min: int | None = None,
) -> list[Match]:
    """The achievements and talent profiles (or `kinds`) that best answer `demand`, best first; `field` keeps
    only that 技术领域, `trl_min` only achievements at least that mature."""
    filters = Filters(
        kinds=_kinds(kinds),
        fields=_field(field),
        trl_min=_trl(trl_min),
        exclude=frozenset({("demand", demand.pk)}) if demand.pk else frozenset(),
    )
    k = _count(k, "k", "推荐条数", MAX_K)
    query = _posting_query("demand", demand)
    if not query.terms:
        return []
    results = _ranker(enterprises="enterprise" in filters.kinds).search(query, filters, k=k).results
    texts = (demand.title, demand.keywords, demand.description)
    return _matches(results, query, texts, _fields_of(results))


def recommend_for_achievement(
    achievement: Achievement,
    *,
    k: int = 10,
    kinds: Sequence[str] = ("demand", "enterprise"),
    field: str | None = None,
    park: Park | int | None = None,
) -> list[Match]:
    """The demands and enterprises (or `kinds`) `achievement` best answers, best first; `field` keeps only that
    技术领域, `park` only demands and enterprises of that park or its sub-parks."""
    filters = Filters(
        kinds=_kinds(kinds),
        fields=_field(field),
        parks=_parks(park),
        exclude=frozenset({("achievement", achievement.pk)}) if achievement.pk else frozenset(),
    )
    k = _count(k, "k", "推荐条数", MAX_K)
    query = _posting_query("achievement", achievement)
    if not query.terms:
        return []
    results = _ranker(enterprises="enterprise" in filters.kinds).search(query, filters, k=k).results
    texts = (achievement.title, achievement.keywords, achievement.abstract)
    return _matches(results, query, texts, _fields_of(results))


# —— The search box ———————————————————————————————————————————————————————————————————————————————————————


def _hit_texts(kind: str, pks: list[int]) -> dict[int, tuple[str, str]]:
    if not pks:
        return {}
    if kind == "enterprise":
        rows = Enterprise.objects.filter(pk__in=pks).values_list("pk", "name", "main_business")
    else:
        rows = POSTINGS[kind].objects.filter(pk__in=pks).values_list("pk", "title", TEXT_FIELD[kind])
    return {pk: (title or "", text or "") for pk, title, text in rows}


def search(
    query: str,
    *,
    kinds: Sequence[str] = ("demand", "achievement"),
    field: str | None = None,
    park: Park | int | None = None,
    trl_min: int | None = None,
    limit: int = 20,
    offset: int = 0,
) -> SearchPage:
    """Published postings (of `kinds`) matching what the user typed, most relevant first; refused with
    QueryError when the query is empty, one character, too long or only common words, or a filter is unknown."""
    filters = Filters(kinds=_kinds(kinds), fields=_field(field), parks=_parks(park), trl_min=_trl(trl_min))
    limit = _count(limit, "limit", "每页条数", MAX_LIMIT)
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise QueryError(f"起始位置 offset={offset!r} 无效：应为不小于 0 的整数")
    parsed = Query.from_text(query)
    page = _ranker(enterprises="enterprise" in filters.kinds).search(parsed, filters, k=limit, offset=offset)
    texts = {
        kind: _hit_texts(kind, [r.pk for r in page.results if r.kind == kind])
        for kind in {r.kind for r in page.results}
    }
    hits = []
    for r in page.results:
        found = texts[r.kind].get(r.pk)
        if found is None:  # deleted since the index saw it
            continue
        title, text = found
        hits.append(
            Hit(
                r.kind,
                r.pk,
                round(r.score, 4),
                highlight(title, r.terms),
                highlight(text, r.terms, snippet=SNIPPET_CHARS),
                tuple(_display(t, (query,)) for t in _shown_terms(r.terms, limit=10)),
            )
        )
    return SearchPage(hits, page.total, tuple(_display(t, (query,)) for t in parsed.terms))
