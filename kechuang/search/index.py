"""Rankers over documents with three fields (title, keywords, text): the BM25 index and the protocol it shares
with other rankers (the character-TF-IDF baseline in baseline.py; embeddings later), with no Django in sight.

Documents. A `Document` is a kind ("demand", "achievement", "talent", "enterprise", or any other string) and a
primary key, the tokens of its three fields (kechuang.search.tokenizer), and metadata for filters: its field
(高新技术领域 code), park id and technology-readiness level (TRL). A key (kind, pk) is in an index at most once:
indexing it again replaces it.

Queries. A `Query` is weighted terms plus, optionally, a field; `Query.from_text` makes one from what a user
types (refused with a Chinese `QueryError` when empty, one character, too long, or only stop words and
punctuation); `Query.from_document` from a posting's tokens (a demand to find achievements for).

The ranker protocol (`Ranker`): build(documents) / upsert(documents) / delete(keys) / search(query, filters, k,
offset) → Page of Results (kind, pk, score, the shared terms best first, field match) and the total number of
matching documents. Callers only see that, so another ranker (embeddings, say) can be put in its place or
combined with this one without changing them.

BM25 (`BM25Ranker`). Lucene's BM25 (k1 = 1.2, b = 0.75), field by field, over a shared vocabulary; a document's
score is Σ over fields of field weight × Σ over query terms of query weight × BM25(term, field):

    FIELD_WEIGHTS        title 1, keywords 1, text 1
    QUERY_FIELD_WEIGHTS  a posting as a query: a term weighs the number of its fields it appears in
    FIELD_BOOST          0.25: when the query has a field, a document of the same field scores × 1.25

chosen on the tuning half of the evaluation set only (benchmarks/bench_matching.py --tune; the figures and the
starting point title 3 / keywords 2 / text 1, which did worse there, are in benchmarks/RESULTS.md).

The main index holds, for each term, the rows that have it and their weight Σ field weight × BM25 (one
term-major array, so a query reads each term's list once), and for each row its terms and their frequency per
field (for explanations, the delta and folding). The weights are the ones bm25s computes with method="lucene"
(tests/search/test_index.py checks them field by field against bm25s.BM25.index); they are computed here with
whole-array numpy operations rather than by bm25s.BM25.index, whose loop over documents in Python took longer
for the three fields alone than this whole build, per-row store included (benchmarks/RESULTS.md).

A query of more than MAX_QUERY_TERMS (64) terms (a long demand) keeps those of the largest query weight × idf:
the rest are common words that would cost time and move nothing.

Filters are boolean masks over metadata arrays: kinds, fields, parks (any of a set of ids; the caller expands a
park to its sub-parks), trl_min (applies to the kinds that have a maturity, `Filters.trl_kinds`, by default
achievements; one with no TRL is left out), and keys to exclude.

Updates. `build` makes the main index (rows in key order). `upsert` masks the document's old row (main or
delta) and appends a new row to a small delta, scored with the main index's statistics (number of documents,
average field lengths, document frequencies: a term the main index has never seen counts as in no document),
so a delta document scores as it would in the main index as long as those statistics hold. `delete` masks the
row. When the delta grows past max(FOLD_MIN_ROWS, FOLD_RATIO × main rows), or masked rows pass a third of the
main index, the live documents are folded into a new main index: the same documents in the same order as a
fresh `build`, hence the same scores and ranking.

Ties are broken by kind then primary key, so a ranking is reproducible.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Protocol, runtime_checkable

import numpy as np

from kechuang.search import tokenizer

FIELDS = ("title", "keywords", "text")
FIELD_WEIGHTS = {"title": 1.0, "keywords": 1.0, "text": 1.0}
QUERY_FIELD_WEIGHTS = {"title": 1.0, "keywords": 1.0, "text": 1.0}
FIELD_BOOST = 0.25
K1 = 1.2
B = 0.75
MAX_QUERY_TERMS = 64
FOLD_MIN_ROWS = 500
FOLD_RATIO = 0.05
STALE_RATIO = 1 / 3

Key = tuple[str, int]


class QueryError(ValueError):
    """A query that cannot be run; the message is Chinese and says what to do."""


@dataclass(frozen=True)
class Document:
    kind: str
    pk: int
    title: Sequence[str] = ()
    keywords: Sequence[str] = ()
    text: Sequence[str] = ()
    field: str = ""
    park: int | None = None
    trl: int | None = None
    raw: str = ""  # the plain text, for rankers that read text rather than tokens (BM25 does not)

    @property
    def key(self) -> Key:
        return (self.kind, self.pk)

    @classmethod
    def from_tokens(cls, kind: str, pk: int, tokens: dict, **meta) -> Document:
        return cls(
            kind,
            pk,
            tuple(tokens.get("title") or ()),
            tuple(tokens.get("keywords") or ()),
            tuple(tokens.get("text") or ()),
            **meta,
        )


@dataclass(frozen=True)
class Query:
    terms: dict[str, float]  # term → weight (> 0)
    field: str = ""
    raw: str = ""

    @classmethod
    def from_text(cls, text: str, *, field: str = "") -> Query:
        """What a user typed, checked: refused with QueryError when it cannot be searched."""
        text = (text or "").strip()
        if not text:
            raise QueryError("请输入检索词")
        length = tokenizer.visible_length(text)
        if length < tokenizer.MIN_QUERY_CHARS:
            raise QueryError(f"检索词过短：请至少输入两个字（“{text}”只有 {length} 个字）")
        if len(text) > tokenizer.MAX_QUERY_CHARS:
            raise QueryError(f"检索词过长：最多 {tokenizer.MAX_QUERY_CHARS} 个字，当前 {len(text)} 个字")
        terms: dict[str, float] = {}
        for term in tokenizer.tokenize(text):
            terms[term] = terms.get(term, 0.0) + 1.0
        if not terms:
            raise QueryError(f"检索词“{text}”只含常用词或标点，请换用具体的技术词语")
        return cls(terms, field, text)

    @classmethod
    def from_document(
        cls,
        tokens: dict,
        *,
        field: str = "",
        raw: str = "",
        weights: dict[str, float] | None = None,
    ) -> Query:
        """A posting as a query: each term weighs the sum of the weights of the fields it appears in."""
        weights = QUERY_FIELD_WEIGHTS if weights is None else weights
        terms: dict[str, float] = {}
        for name in FIELDS:
            for term in set(tokens.get(name) or ()):
                terms[term] = terms.get(term, 0.0) + weights[name]
        return cls({t: w for t, w in terms.items() if w > 0}, field, raw)


@dataclass(frozen=True)
class Filters:
    kinds: frozenset[str] | None = None
    fields: frozenset[str] | None = None
    parks: frozenset[int] | None = None
    trl_min: int | None = None
    exclude: frozenset[Key] = frozenset()
    trl_kinds: frozenset[str] = frozenset({"achievement"})


@dataclass(frozen=True)
class Result:
    kind: str
    pk: int
    score: float
    terms: tuple[str, ...]  # the query terms the document has, largest contribution first
    field_match: bool

    @property
    def key(self) -> Key:
        return (self.kind, self.pk)


@dataclass(frozen=True)
class Page:
    results: list[Result]
    total: int  # documents that match the query and the filters


@runtime_checkable
class Ranker(Protocol):
    def build(self, documents: Iterable[Document]) -> None: ...

    def upsert(self, documents: Iterable[Document]) -> None: ...

    def delete(self, keys: Iterable[Key]) -> None: ...

    def search(
        self,
        query: Query,
        filters: Filters | None = None,
        *,
        k: int = 10,
        offset: int = 0,
        with_terms: bool = True,
    ) -> Page: ...

    def keys(self) -> list[Key]: ...

    def __len__(self) -> int: ...

    def __contains__(self, key: object) -> bool: ...


# —— Shared helpers ————————————————————————————————————————————————————————————————————————————————————


def check_paging(k: int, offset: int) -> None:
    if not isinstance(k, int) or isinstance(k, bool) or k < 1 or k > 1000:
        raise QueryError(f"返回条数 k={k!r} 无效：应为 1–1000 的整数")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise QueryError(f"起始位置 offset={offset!r} 无效：应为不小于 0 的整数")


class Metadata:
    """Per-row kind, field, park and TRL as growable numpy arrays, and the masks the filters make of them."""

    def __init__(self) -> None:
        self.kind_codes: dict[str, int] = {}
        self.field_codes: dict[str, int] = {"": 0}
        self.n = 0
        self.kind = np.zeros(0, np.int16)
        self.field = np.zeros(0, np.int16)
        self.park = np.zeros(0, np.int64)
        self.trl = np.zeros(0, np.int8)
        self.live = np.zeros(0, bool)
        self.pk = np.zeros(0, np.int64)

    @staticmethod
    def _code(table: dict[str, int], value: str) -> int:
        if value not in table:
            table[value] = len(table)
        return table[value]

    def append(self, documents: Sequence[Document]) -> None:
        m = len(documents)
        if self.n + m > len(self.kind):
            size = max(16, 2 * (self.n + m))
            for name in ("kind", "field", "park", "trl", "live", "pk"):
                old = getattr(self, name)
                new = np.zeros(size, old.dtype)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)
        s = slice(self.n, self.n + m)
        self.kind[s] = [self._code(self.kind_codes, d.kind) for d in documents]
        self.field[s] = [self._code(self.field_codes, d.field or "") for d in documents]
        self.park[s] = [-1 if d.park is None else int(d.park) for d in documents]
        self.trl[s] = [0 if d.trl is None else int(d.trl) for d in documents]
        self.pk[s] = [int(d.pk) for d in documents]
        self.live[s] = True
        self.n += m

    def kind_name(self, row: int) -> str:
        if not hasattr(self, "_kind_names") or len(self._kind_names) != len(self.kind_codes):
            self._kind_names = {code: name for name, code in self.kind_codes.items()}
        return self._kind_names[int(self.kind[row])]

    def take(self, rows: Sequence[int]) -> Metadata:
        """A Metadata of these rows only (all live), with the same codes."""
        other = Metadata()
        other.kind_codes, other.field_codes = dict(self.kind_codes), dict(self.field_codes)
        index = np.asarray(rows, np.int64)
        for name in ("kind", "field", "park", "trl", "pk"):
            setattr(other, name, getattr(self, name)[index].copy())
        other.live = np.ones(len(index), bool)
        other.n = len(index)
        return other

    def mask(self, filters: Filters, start: int = 0, stop: int | None = None) -> np.ndarray:
        stop = self.n if stop is None else stop
        s = slice(start, stop)
        mask = self.live[s].copy()
        if filters.kinds is not None:
            mask &= _any_of(self.kind[s], [self.kind_codes[k] for k in filters.kinds if k in self.kind_codes])
        if filters.fields is not None:
            mask &= _any_of(
                self.field[s], [self.field_codes[f] for f in filters.fields if f in self.field_codes]
            )
        if filters.parks is not None:
            mask &= _any_of(self.park[s], list(filters.parks))
        if filters.trl_min is not None:
            codes = [self.kind_codes[k] for k in filters.trl_kinds if k in self.kind_codes]
            mask &= ~_any_of(self.kind[s], codes) | (self.trl[s] >= filters.trl_min)
        return mask


def _any_of(values: np.ndarray, codes: Sequence[int]) -> np.ndarray:
    """values ∈ codes, elementwise (a few comparisons are faster than np.isin for a few codes)."""
    if len(codes) > 8:
        return np.isin(values, codes)
    out = np.zeros(len(values), bool)
    for code in codes:
        out |= values == code
    return out


def top_rows(
    scores: np.ndarray, rows: np.ndarray, kinds: Sequence[str], pks: np.ndarray, k: int
) -> np.ndarray:
    """The positions (into `scores` and `rows`) of the k best scores, ties broken by kind then pk (`kinds` and
    `pks` are indexed by row); every row tied with the k-th is considered before cutting, so the choice does not
    depend on the order of the rows."""
    if len(rows) == 0:
        return np.zeros(0, np.int64)
    if len(rows) > k:
        threshold = np.partition(scores, len(scores) - k)[len(scores) - k]
        chosen = np.nonzero(scores >= threshold)[0]
    else:
        chosen = np.arange(len(rows))
    order = sorted(
        chosen.tolist(), key=lambda i: (-float(scores[i]), kinds[int(rows[i])], int(pks[int(rows[i])]))
    )
    return np.asarray(order[:k], np.int64)


# —— BM25 ——————————————————————————————————————————————————————————————————————————————————————————————


def lucene_idf(df: np.ndarray, n: int) -> np.ndarray:
    """Lucene's idf, as bm25s computes it (bm25s.scoring._score_idf_lucene)."""
    return np.log(1.0 + (n - df + 0.5) / (df + 0.5))


def _accumulate(n: int, index: tuple[np.ndarray, np.ndarray, np.ndarray], ids, qw) -> np.ndarray:
    """Σ over the query terms of query weight × the term's weight in each of n rows, from a term-major index
    (indptr, rows, weights); a row appears once in a term's list, so a fancy-indexed += adds each weight once."""
    scores = np.zeros(n, np.float32)
    indptr, rows, data = index
    last = len(indptr) - 1
    for t, w in zip(ids.tolist(), qw.tolist(), strict=True):
        if t < last:
            s, e = indptr[t], indptr[t + 1]
            if e > s:
                scores[rows[s:e]] += data[s:e] * np.float32(w)
    return scores


class _Stats:
    """What BM25 weights are computed with: number of rows, average length and document frequency per field."""

    def __init__(self, n: int, avgdl: np.ndarray, df: np.ndarray, k1: float, b: float):
        self.n, self.avgdl, self.df, self.k1, self.b = n, avgdl, df, k1, b  # df: (3, vocabulary)

    def weights(
        self, field: np.ndarray, term: np.ndarray, tf: np.ndarray, length: np.ndarray, dtype=np.float64
    ) -> np.ndarray:
        """BM25 weight of each (field, term, tf, field length) with these statistics; a term beyond the known
        vocabulary counts as in no document."""
        known = term < self.df.shape[1]
        if known.all():
            df = self.df[field, term].astype(dtype)
        else:
            df = np.zeros(len(term), dtype)
            df[known] = self.df[field[known], term[known]]
        avgdl = np.where(self.avgdl > 0, self.avgdl, 1.0).astype(dtype)[field]
        idf = lucene_idf(df, self.n)
        tf = tf.astype(dtype)
        idf *= tf
        tf += self.k1 * (1 - self.b + self.b * length.astype(dtype) / avgdl)
        idf /= tf
        return idf


@dataclass
class _Row:
    """A delta row: its terms (sorted ids), term frequencies per field (n × 3), field lengths, and each term's
    weight Σ field weight × BM25 with the main index's statistics."""

    term_ids: np.ndarray
    tf: np.ndarray
    lengths: np.ndarray
    weights: np.ndarray


class BM25Ranker:
    """The BM25 ranker (see the module's docstring). Thread-safe: a lock guards every method."""

    needs_text = False

    def __init__(
        self,
        *,
        weights: dict[str, float] | None = None,
        field_boost: float = FIELD_BOOST,
        k1: float = K1,
        b: float = B,
        max_query_terms: int = MAX_QUERY_TERMS,
        fold_min_rows: int = FOLD_MIN_ROWS,
        fold_ratio: float = FOLD_RATIO,
        stale_ratio: float = STALE_RATIO,
    ):
        self.weights = dict(FIELD_WEIGHTS if weights is None else weights)
        if set(self.weights) != set(FIELDS) or any(w < 0 for w in self.weights.values()):
            raise ValueError(f"field weights must be non-negative numbers for {FIELDS}")
        self.field_weights = np.array([self.weights[f] for f in FIELDS], float)
        self.field_boost = float(field_boost)
        self.k1, self.b = k1, b
        self.max_query_terms = max_query_terms
        self.fold_min_rows, self.fold_ratio, self.stale_ratio = fold_min_rows, fold_ratio, stale_ratio
        self._lock = threading.RLock()
        self.folds = 0
        self.build_seconds: dict[str, float] = {}
        self._reset()

    # —— state ——

    def _reset(self) -> None:
        self.vocab: dict[str, int] = {}
        self.terms: list[str] = []
        self.meta = Metadata()
        self.kinds: list[str] = []  # per row
        self.rows: dict[Key, int] = {}  # live key → row
        self.n_main = 0
        self.stats_ = _Stats(0, np.zeros(3), np.zeros((3, 0)), self.k1, self.b)
        # The main index, term-major (CSC): for term t, rows indices[indptr[t]:indptr[t+1]] and their combined
        # weights Σ field weight × BM25 in data[...] (float32).
        self.indptr = np.zeros(1, np.int64)
        self.indices = np.zeros(0, np.int32)
        self.data = np.zeros(0, np.float32)
        # The main rows, doc-major (CSR): terms and their frequency per field, and field lengths.
        self.row_ptr = np.zeros(1, np.int64)
        self.row_terms = np.zeros(0, np.int32)
        self.row_tf = np.zeros((0, 3), np.uint16)
        self.row_len = np.zeros((0, 3), np.int32)
        self.delta: list[_Row] = []
        self._delta_index: tuple[np.ndarray, np.ndarray, np.ndarray] | None = (
            None  # as the main one, made lazily
        )

    def keys(self) -> list[Key]:
        return list(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, key: object) -> bool:
        return key in self.rows

    def stats(self) -> dict:
        return {
            "documents": len(self.rows),
            "main_rows": self.n_main,
            "delta_rows": len(self.delta),
            "masked_rows": self.meta.n - len(self.rows),
            "vocabulary": len(self.terms),
            "folds": self.folds,
        }

    def _intern(self, tokens: Iterable[str]) -> None:
        for t in tokens:
            if t not in self.vocab:
                self.vocab[t] = len(self.terms)
                self.terms.append(t)

    # —— build ——

    def build(self, documents: Iterable[Document]) -> None:
        with self._lock:
            latest: dict[Key, Document] = {}
            for doc in documents:
                latest[doc.key] = doc  # a key given twice: the last one counts
            docs = sorted(latest.values(), key=lambda d: (d.kind, d.pk))
            self._reset()
            clock = time.perf_counter()
            # The vocabulary in sorted order, so a term's id does not depend on the order of the documents.
            seen: set[str] = set()
            for doc in docs:
                seen.update(doc.title, doc.keywords, doc.text)
            self.terms = sorted(seen)
            self.vocab = {t: i for i, t in enumerate(self.terms)}
            timings = {"vocabulary": time.perf_counter() - clock}
            n, width = len(docs), max(len(self.terms), 1)
            lengths = np.zeros((n, 3), np.int64)
            keys = []
            for f, name in enumerate(FIELDS):
                per_doc = [getattr(d, name) for d in docs]
                lengths[:, f] = np.fromiter(map(len, per_doc), np.int64, count=n)
                total = int(lengths[:, f].sum())
                term = np.fromiter(
                    map(self.vocab.__getitem__, chain.from_iterable(per_doc)), np.int64, count=total
                )
                row = np.repeat(np.arange(n, dtype=np.int64), lengths[:, f])
                keys.append((row * width + term) * 3 + f)
                del term, row
            timings["token ids"] = time.perf_counter() - clock - sum(timings.values())
            # Each (row, term, field) once, with its count: sorted by row, then term, then field.
            unique, counts = np.unique(np.concatenate(keys), return_counts=True)
            del keys
            field = (unique % 3).astype(np.int8)
            unique //= 3
            timings["counting"] = time.perf_counter() - clock - sum(timings.values())
            self._install(
                docs,
                (unique // width).astype(np.int32),
                (unique % width).astype(np.int32),
                field,
                counts,
                lengths,
            )
            timings["weights and arrays"] = time.perf_counter() - clock - sum(timings.values())
            self.build_seconds = {name: round(t, 2) for name, t in timings.items()}

    def _install(
        self,
        docs: Sequence[Document] | Metadata,
        row: np.ndarray,
        term: np.ndarray,
        field: np.ndarray,
        count: np.ndarray,
        lengths: np.ndarray,
    ) -> None:
        """Make the main index of n rows from its (row, term, field, count) entries, sorted by row, term, field;
        `docs` gives the rows' keys and metadata (Documents, or a Metadata of exactly these rows)."""
        n, v = len(lengths), len(self.terms)
        lengths = np.asarray(lengths, np.int64).reshape(n, 3)
        avgdl = lengths.mean(axis=0) if n else np.zeros(3)
        df = np.zeros((3, v), np.float32)
        for f in range(3):
            df[f] = np.bincount(term[field == f], minlength=v)
        self.stats_ = _Stats(n, avgdl, df, self.k1, self.b)
        weight = self.stats_.weights(field, term, count, lengths[row, field], np.float32)
        weight *= self.field_weights.astype(np.float32)[field]
        # (row, term) pairs: the entries of one pair are adjacent.
        first = (
            np.r_[True, (row[1:] != row[:-1]) | (term[1:] != term[:-1])] if len(row) else np.zeros(0, bool)
        )
        pair = np.cumsum(first) - 1
        pair_row, pair_term = row[first], term[first]
        combined = np.bincount(pair, weight, minlength=len(pair_row))
        tf = np.zeros((len(pair_row), 3), np.uint16)
        tf[pair, field] = np.minimum(count, 65535)
        del weight
        order = np.argsort(pair_term, kind="stable")  # term-major, rows ascending within a term
        self.indices = pair_row[order].astype(np.int32)
        self.data = combined[order].astype(np.float32)
        self.indptr = np.zeros(v + 1, np.int64)
        np.cumsum(np.bincount(pair_term, minlength=v), out=self.indptr[1:])
        self.row_terms = pair_term.astype(np.int32)
        self.row_tf = tf
        self.row_ptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(pair_row, minlength=n), out=self.row_ptr[1:])
        self.row_len = lengths.astype(np.int32)
        if isinstance(docs, Metadata):
            self.meta = docs
            self.kinds = [docs.kind_name(r) for r in range(n)]
            self.rows = {(self.kinds[r], int(docs.pk[r])): r for r in range(n)}
        else:
            self.meta = Metadata()
            self.meta.append(docs)
            self.kinds = [d.kind for d in docs]
            self.rows = {d.key: i for i, d in enumerate(docs)}
        self.n_main = n
        self.delta, self._delta_index = [], None

    def _row_entries(self, row: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A row's term ids, their frequencies per field (n × 3) and its field lengths."""
        if row < self.n_main:
            s, e = self.row_ptr[row], self.row_ptr[row + 1]
            return self.row_terms[s:e].astype(np.int64), self.row_tf[s:e], self.row_len[row].astype(np.int64)
        delta = self.delta[row - self.n_main]
        return delta.term_ids, delta.tf, delta.lengths

    def fold(self) -> None:
        """Make a new main index of the live documents (main and delta), in key order: the same index a fresh
        `build` of those documents makes."""
        with self._lock:
            live = sorted(self.rows.items())
            old_rows = [r for _, r in live]
            parts_row, parts_term, parts_tf = [], [], []
            lengths = np.zeros((len(live), 3), np.int64)
            main = np.array([r for r in old_rows if r < self.n_main], np.int64)
            new_of_main = np.array([i for i, r in enumerate(old_rows) if r < self.n_main], np.int32)
            if len(main):
                starts, ends = self.row_ptr[main], self.row_ptr[main + 1]
                sizes = ends - starts
                take = np.repeat(starts - np.cumsum(np.r_[0, sizes[:-1]]), sizes) + np.arange(sizes.sum())
                parts_row.append(np.repeat(new_of_main, sizes))
                parts_term.append(self.row_terms[take])
                parts_tf.append(self.row_tf[take])
                lengths[new_of_main] = self.row_len[main]
                del take
            for i, r in enumerate(old_rows):
                if r >= self.n_main:
                    delta = self.delta[r - self.n_main]
                    parts_row.append(np.full(len(delta.term_ids), i, np.int32))
                    parts_term.append(delta.term_ids.astype(np.int32))
                    parts_tf.append(delta.tf)
                    lengths[i] = delta.lengths
            row = np.concatenate(parts_row or [np.zeros(0, np.int32)]).astype(np.int32, copy=False)
            term = np.concatenate(parts_term or [np.zeros(0, np.int32)]).astype(np.int32, copy=False)
            tf = np.concatenate(parts_tf or [np.zeros((0, 3), np.uint16)])
            del parts_row, parts_term, parts_tf
            # Terms in the same sorted order as a fresh build (which knows only the live documents' terms).
            used = np.flatnonzero(np.bincount(term, minlength=len(self.terms)))
            terms = [self.terms[t] for t in used.tolist()]
            order_of = np.array(sorted(range(len(terms)), key=terms.__getitem__), np.int64)
            remap = np.zeros(len(self.terms), np.int32)
            remap[used[order_of]] = np.arange(len(used), dtype=np.int32)
            self.terms = [terms[i] for i in order_of.tolist()]
            self.vocab = {t: i for i, t in enumerate(self.terms)}
            term = remap[term]
            # (row, term) pairs in order; the main rows' pairs already are (remapping keeps the terms' order),
            # so the stable sort has little to do.
            order = np.argsort(row.astype(np.int64) * max(len(self.terms), 1) + term, kind="stable")
            row, term, tf = row[order], term[order], tf[order]
            del order
            pair, e_field = np.nonzero(tf)  # row-major: by pair, then field
            e_count = tf[pair, e_field]
            e_row, e_term = row[pair], term[pair]
            del pair, row, term, tf
            meta = self.meta.take(old_rows)
            self._install(meta, e_row, e_term, e_field.astype(np.int8), e_count, lengths)
            self.folds += 1

    # —— updates ——

    def upsert(self, documents: Iterable[Document]) -> None:
        with self._lock:
            latest: dict[Key, Document] = {}
            for doc in documents:
                latest[doc.key] = doc
            if not latest:
                return
            for key in latest:
                self._mask(key)
            docs = list(latest.values())
            start = self.meta.n
            self.meta.append(docs)
            for i, doc in enumerate(docs):
                row = start + i
                self.kinds.append(doc.kind)
                self.rows[doc.key] = row
                self.delta.append(self._delta_row(doc))
            self._delta_index = None
            if self.n_main == 0:
                self.fold()
            else:
                self._maybe_fold()

    def _delta_row(self, doc: Document) -> _Row:
        counts: dict[int, list[int]] = {}
        for f, name in enumerate(FIELDS):
            tokens = getattr(doc, name)
            self._intern(tokens)
            for t in tokens:
                counts.setdefault(self.vocab[t], [0, 0, 0])[f] += 1
        term_ids = np.array(sorted(counts), np.int64)
        tf = np.array([counts[t] for t in term_ids.tolist()], np.int64).reshape(len(term_ids), 3)
        lengths = np.array([len(doc.title), len(doc.keywords), len(doc.text)], np.int64)
        tf = np.minimum(tf, 65535).astype(np.uint16)
        return _Row(term_ids, tf, lengths, self._contributions((term_ids, tf, lengths)))

    def _contributions(self, row: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
        """Σ over fields of field weight × BM25 weight, per term of a row, with the main index's statistics."""
        term_ids, tf, lengths = row
        present = np.nonzero(tf)
        field = present[1].astype(np.int64)
        weight = self.field_weights[field] * self.stats_.weights(
            field, term_ids[present[0]], tf[present].astype(float), lengths[field]
        )
        return np.bincount(present[0], weight, minlength=len(term_ids))

    def _mask(self, key: Key) -> None:
        row = self.rows.pop(key, None)
        if row is None:
            return
        self.meta.live[row] = False
        if row >= self.n_main:
            self._delta_index = None

    def delete(self, keys: Iterable[Key]) -> None:
        with self._lock:
            for key in keys:
                self._mask(tuple(key))  # type: ignore[arg-type]
            self._maybe_fold()

    def _maybe_fold(self) -> None:
        masked_main = self.n_main - int(self.meta.live[: self.n_main].sum())
        if len(self.delta) > max(self.fold_min_rows, self.fold_ratio * self.n_main) or (
            self.n_main and masked_main > self.stale_ratio * self.n_main
        ):
            self.fold()

    # —— search ——

    def main_scores(self, query: Query) -> np.ndarray:
        """The score of every row of the main index for `query`, in row order: no filters, no delta, no field
        boost (the sums search() ranks by). For a caller that needs every document's score, such as ordering a
        whole pool of experts for each application, where a Result per document would cost more than the sum."""
        with self._lock:
            ids, weights = self._query_ids(query)
            if len(ids) == 0:
                return np.zeros(self.n_main)
            return self._main_scores(ids, weights).astype(float)

    def _query_ids(self, query: Query) -> tuple[np.ndarray, np.ndarray]:
        pairs = [(self.vocab[t], w) for t, w in query.terms.items() if t in self.vocab and w > 0]
        if not pairs:
            return np.zeros(0, np.int64), np.zeros(0)
        ids = np.array([p[0] for p in pairs], np.int64)
        qw = np.array([p[1] for p in pairs], float)
        if len(ids) > self.max_query_terms:
            # Keep the terms that can weigh most: query weight × their best idf over the fields.
            df = np.zeros((3, len(ids)))
            known = ids < self.stats_.df.shape[1]
            df[:, known] = self.stats_.df[:, ids[known]]
            idf = lucene_idf(df.min(axis=0), self.stats_.n)
            keep = np.sort(np.argsort(-(qw * idf), kind="stable")[: self.max_query_terms])
            ids, qw = ids[keep], qw[keep]
        return ids, qw

    def _main_scores(self, ids: np.ndarray, qw: np.ndarray) -> np.ndarray:
        return _accumulate(self.n_main, (self.indptr, self.indices, self.data), ids, qw)

    def _delta_scores(self, ids: np.ndarray, qw: np.ndarray) -> np.ndarray:
        if not self.delta:
            return np.zeros(0, np.float32)
        if self._delta_index is None:  # made again after a change to the delta, at the next query
            live = [i for i in range(len(self.delta)) if self.meta.live[self.n_main + i]]
            terms = np.concatenate([self.delta[i].term_ids for i in live] or [np.zeros(0, np.int64)])
            data = np.concatenate([self.delta[i].weights for i in live] or [np.zeros(0)])
            rows = np.concatenate(
                [np.full(len(self.delta[i].term_ids), i, np.int32) for i in live] or [np.zeros(0, np.int32)]
            )
            order = np.argsort(terms, kind="stable")
            indptr = np.zeros(len(self.terms) + 1, np.int64)
            np.cumsum(np.bincount(terms, minlength=len(self.terms)), out=indptr[1:])
            self._delta_index = (indptr, rows[order], data[order].astype(np.float32))
        return _accumulate(len(self.delta), self._delta_index, ids, qw)

    def search(
        self,
        query: Query,
        filters: Filters | None = None,
        *,
        k: int = 10,
        offset: int = 0,
        with_terms: bool = True,
    ) -> Page:
        check_paging(k, offset)
        filters = filters or Filters()
        with self._lock:
            ids, qw = self._query_ids(query)
            if len(ids) == 0 or not self.rows:
                return Page([], 0)
            scores = np.concatenate([self._main_scores(ids, qw), self._delta_scores(ids, qw)])
            mask = self.meta.mask(filters)
            mask &= scores > 0
            for key in filters.exclude:
                row = self.rows.get(key)
                if row is not None:
                    mask[row] = False
            rows = np.nonzero(mask)[0]
            total = len(rows)
            if total == 0 or offset >= total:
                return Page([], total)
            chosen = scores[rows]
            field_code = self.meta.field_codes.get(query.field) if query.field else None
            matches = (
                self.meta.field[rows] == field_code if field_code is not None else np.zeros(len(rows), bool)
            )
            if self.field_boost and field_code is not None:
                chosen = np.where(matches, chosen * (1.0 + self.field_boost), chosen)
            best = top_rows(chosen, rows, self.kinds, self.meta.pk, offset + k)[offset:]
            query_ids = self._query_lookup(ids, qw)
            return Page(
                [
                    Result(
                        self.kinds[rows[i]],
                        int(self.meta.pk[rows[i]]),
                        float(chosen[i]),
                        self._shared_terms(int(rows[i]), query_ids) if with_terms else (),
                        bool(matches[i]),
                    )
                    for i in best.tolist()
                ],
                total,
            )

    def shared_terms(self, query: Query, keys: Iterable[Key]) -> dict[Key, tuple[str, ...]]:
        """The query terms each of these documents has, largest contribution first (for results asked for
        without terms)."""
        with self._lock:
            ids, qw = self._query_ids(query)
            lookup = self._query_lookup(ids, qw)
            return {key: self._shared_terms(self.rows[key], lookup) for key in keys if key in self.rows}

    def _query_lookup(self, ids: np.ndarray, qw: np.ndarray) -> np.ndarray:
        """The query weight of every term of the vocabulary (0 for terms not in the query)."""
        lookup = np.zeros(len(self.terms))
        lookup[ids] = qw
        return lookup

    def _shared_terms(self, row: int, lookup: np.ndarray) -> tuple[str, ...]:
        """The query terms the row has, by their contribution to its score, largest first."""
        term_ids, tf, lengths = self._row_entries(row)
        weight = lookup[term_ids]
        keep = weight > 0
        if not keep.any():
            return ()
        term_ids, tf = term_ids[keep], tf[keep]
        contribution = self._contributions((term_ids, tf, lengths)) * weight[keep]
        order = sorted(range(len(term_ids)), key=lambda i: (-contribution[i], self.terms[term_ids[i]]))
        return tuple(self.terms[int(term_ids[i])] for i in order if contribution[i] > 0)
