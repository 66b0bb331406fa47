"""The baseline the BM25 ranker is measured against: plain character TF-IDF with cosine similarity.

A document is its title, keywords and text run together (`Document.raw`, no field weights), NFKC and
case-folded, with spaces and punctuation removed; its features are character unigrams and bigrams; weights are
raw count × smoothed idf, log((1 + N) / (1 + df)) + 1, and vectors are L2-normalised, so the score is the cosine
of query and document. No tokenizer, no dictionary, no stop words: what a search box does without Chinese
segmentation.

Behind the same protocol as BM25Ranker (kechuang.search.index.Ranker). It is a baseline, so updates are simple:
`upsert` and `delete` change the document set and the index is built again before the next search.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable

import numpy as np

from kechuang.search.index import (
    Document,
    Filters,
    Key,
    Metadata,
    Page,
    Query,
    Result,
    check_paging,
    top_rows,
)
from kechuang.search.tokenizer import normalise


def char_ngrams(text: str) -> list[str]:
    """Character unigrams and bigrams of the letters, digits and ideographs of `text` (NFKC, case-folded)."""
    chars = "".join(ch for ch in normalise(text) if ch.isalnum())
    return list(chars) + [chars[i : i + 2] for i in range(len(chars) - 1)]


class CharTfidfRanker:
    needs_text = True

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.documents: dict[Key, Document] = {}
        self._dirty = True

    def keys(self) -> list[Key]:
        return list(self.documents)

    def __len__(self) -> int:
        return len(self.documents)

    def __contains__(self, key: object) -> bool:
        return key in self.documents

    def build(self, documents: Iterable[Document]) -> None:
        with self._lock:
            self.documents = {d.key: d for d in documents}
            self._index()

    def upsert(self, documents: Iterable[Document]) -> None:
        with self._lock:
            for doc in documents:
                self.documents[doc.key] = doc
            self._dirty = True

    def delete(self, keys: Iterable[Key]) -> None:
        with self._lock:
            for key in keys:
                self.documents.pop(tuple(key), None)  # type: ignore[arg-type]
            self._dirty = True

    def _index(self) -> None:
        docs = sorted(self.documents.values(), key=lambda d: (d.kind, d.pk))
        self.vocab: dict[str, int] = {}
        rows, cols, values = [], [], []
        for i, doc in enumerate(docs):
            counts = Counter(char_ngrams(doc.raw))
            for gram, count in counts.items():
                rows.append(i)
                cols.append(self.vocab.setdefault(gram, len(self.vocab)))
                values.append(count)
        n, v = len(docs), len(self.vocab)
        row = np.asarray(rows, np.int64)
        col = np.asarray(cols, np.int64)
        tf = np.asarray(values, float)
        df = np.bincount(col, minlength=v)
        self.idf = np.log((1 + n) / (1 + df)) + 1
        weight = tf * self.idf[col] if len(col) else tf
        norms = np.sqrt(np.bincount(row, weight**2, minlength=n))
        weight = weight / np.where(norms[row] > 0, norms[row], 1) if len(row) else weight
        order = np.argsort(col, kind="stable")
        self.col_rows = row[order]
        self.col_values = weight[order]
        self.col_ptr = np.zeros(v + 1, np.int64)
        np.cumsum(df, out=self.col_ptr[1:])
        self.meta = Metadata()
        self.meta.append(docs)
        self.kinds = [d.kind for d in docs]
        self.rows = {d.key: i for i, d in enumerate(docs)}
        self.terms = list(self.vocab)
        self._dirty = False

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
            if self._dirty:
                self._index()
            grams = Counter(g for g in char_ngrams(query.raw) if g in self.vocab)
            if not grams or not self.rows:
                return Page([], 0)
            ids = np.array([self.vocab[g] for g in grams], np.int64)
            q = np.array(list(grams.values()), float) * self.idf[ids]
            q /= np.linalg.norm(q)
            parts_rows, parts_values = [], []
            for t, w in zip(ids.tolist(), q.tolist(), strict=True):
                s, e = self.col_ptr[t], self.col_ptr[t + 1]
                parts_rows.append(self.col_rows[s:e])
                parts_values.append(self.col_values[s:e] * w)
            scores = np.bincount(
                np.concatenate(parts_rows), np.concatenate(parts_values), minlength=self.meta.n
            )
            mask = self.meta.mask(filters) & (scores > 0)
            for key in filters.exclude:
                if key in self.rows:
                    mask[self.rows[key]] = False
            rows = np.nonzero(mask)[0]
            total = len(rows)
            if offset >= total:
                return Page([], total)
            chosen = scores[rows]
            best = top_rows(chosen, rows, self.kinds, self.meta.pk, offset + k)[offset:]
            field_code = self.meta.field_codes.get(query.field) if query.field else None
            query_grams = {self.vocab[g] for g in grams if len(g) == 2}
            results = []
            for i in best.tolist():
                row = int(rows[i])
                kind = self.kinds[row]
                shared: tuple[str, ...] = ()
                if with_terms:
                    doc_grams = set(char_ngrams(self.documents[(kind, int(self.meta.pk[row]))].raw))
                    shared = tuple(sorted(g for g in doc_grams if self.vocab.get(g) in query_grams))
                results.append(
                    Result(
                        kind,
                        int(self.meta.pk[row]),
                        float(chosen[i]),
                        shared,
                        field_code is not None and int(self.meta.field[row]) == field_code,
                    )
                )
            return Page(results, total)
