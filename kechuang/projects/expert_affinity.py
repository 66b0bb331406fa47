"""专家相关度: how close an expert's expertise is to an application, by BM25 over the experts' keywords and fields
with the platform's search engine (kechuang.search, the one 双向发榜 matches with; projects may not import
matching, but may import that pure package).

Each expert is a document: its 专长关键词 (split on 、，,；; and spaces, each keyword tokenized: "功率器件" also
brings 功率、器件) as the keywords field, and the names of its 技术领域 as the text field. An application is the
query: its title, its keywords and the name of its field, each term weighted by the number of those three it
appears in. The score is BM25 (kechuang.search.index.BM25Ranker, field weights 1/1/1), times (1 + FIELD_BOOST)
when the application's field is among the expert's fields. So an expert listing "碳化硅、功率器件" is close to an
application on "碳化硅功率模块封装" although no keyword is identical, and a keyword few experts list counts more
than one many list.

`ExpertAffinity(experts)` indexes the experts once (a call's whole pool); `.scores(application)` gives the score
of every expert above 0, `.vector(application)` every expert's score as an array (fast: review.propose orders the
pool with it for each application of a call); `.explain(application, ids)` the shared terms of some experts (the
ones picked), for the reason shown to the officer; `.rank(application, k=…)` the best first (ties by expert id)
with their terms. `rank_experts(application, experts)` for one application.
Nothing is written. Conflicts of interest are not looked at here: review.propose excludes them before ranking.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from kechuang.enterprises.choices import HitechField
from kechuang.search import tokenizer
from kechuang.search.index import BM25Ranker, Document, Query

FIELD_LABELS = dict(HitechField.choices)
FIELD_BOOST = 0.25  # the engine's FIELD_BOOST (kechuang.search.index), chosen on the matching evaluation set
KIND = "expert"


@dataclass(frozen=True)
class Affinity:
    expert_id: int
    score: float
    terms: tuple[str, ...]  # the application's terms the expert has, most telling first
    field_match: bool

    @property
    def reason(self) -> str:
        """In Chinese, for the proposal's reason: "相关专长：功率器件、碳化硅"."""
        return "相关专长：" + "、".join(self.terms) if self.terms else "专长无相关词"


def _field_names(codes: Iterable[str]) -> str:
    return "、".join(FIELD_LABELS.get(str(code), str(code)) for code in codes)


def _shown(terms: tuple[str, ...], limit: int = 5) -> tuple[str, ...]:
    """Terms not inside a longer shared term (碳化硅功率器件 rather than also 功率, 器件)."""
    return tuple([t for t in terms if not any(t != o and t in o for o in terms)][:limit])


class ExpertAffinity:
    """The experts of a pool, indexed once; see the module's docstring."""

    def __init__(self, experts: Iterable):
        self.experts = {e.pk: e for e in experts}
        self.fields = {pk: {str(c) for c in (e.fields or [])} for pk, e in self.experts.items()}
        self.ranker = BM25Ranker(weights={"title": 1.0, "keywords": 1.0, "text": 1.0}, field_boost=0.0)
        self.ranker.build(
            Document(
                KIND,
                pk,
                (),
                tuple(tokenizer.tokenize("、".join(tokenizer.keyword_list(e.keywords or "")))),
                tuple(tokenizer.tokenize(_field_names(e.fields or []))),
            )
            for pk, e in self.experts.items()
        )
        # The ranker's rows are the experts by id: row r is expert self.row_pks[r].
        self.row_pks = np.asarray(self.ranker.meta.pk[: self.ranker.n_main], np.int64)
        self.row_of = {int(pk): r for r, pk in enumerate(self.row_pks.tolist())}
        self._field_rows: dict[str, np.ndarray] = {}
        self._field_names: dict[str, list[str]] = {}

    def query(self, application) -> Query:
        tokens = {
            "title": tokenizer.tokenize(application.title or ""),
            "keywords": tokenizer.tokenize("、".join(tokenizer.keyword_list(application.keywords or ""))),
            "text": self._field_tokens(application.field or ""),
        }
        return Query.from_document(tokens, field=application.field or "")

    def _field_tokens(self, code: str) -> list[str]:
        """The tokens of a field's name, worked out once per field (a call's applications share a few)."""
        if code not in self._field_names:
            self._field_names[code] = tokenizer.tokenize(FIELD_LABELS.get(code, ""))
        return list(self._field_names[code])

    def vector(self, application, query: Query | None = None) -> np.ndarray:
        """Every expert's score in row order (self.row_pks, by expert id; 0 when nothing is shared), read
        straight from the ranker's term index (BM25Ranker.main_scores: the same sums search() ranks by):
        review.propose needs the score of every expert of the pool for each application of a call,
        which search() would wrap in a result object each, several times slower for 2,000 applications."""
        query = self.query(application) if query is None else query
        if not self.experts or not query.terms:
            return np.zeros(len(self.row_pks))
        raw = self.ranker.main_scores(query)
        if application.field:
            raw = np.where(self._in_field(application.field), raw * (1 + FIELD_BOOST), raw)
        return np.round(raw, 6)

    def _in_field(self, code: str) -> np.ndarray:
        if code not in self._field_rows:
            self._field_rows[code] = np.array([code in self.fields[pk] for pk in self.row_pks.tolist()], bool)
        return self._field_rows[code]

    def scores(self, application, query: Query | None = None) -> dict[int, float]:
        """Expert id → score, for every expert of the pool whose score is above 0 (no terms: fast enough to
        order a whole pool for each application of a call)."""
        vector = self.vector(application, query)
        return {int(self.row_pks[r]): float(vector[r]) for r in np.nonzero(vector > 0)[0].tolist()}

    def _matches(self, application, pk: int) -> bool:
        return bool(application.field) and application.field in self.fields[pk]

    def explain(
        self,
        application,
        expert_ids: Iterable[int],
        *,
        query: Query | None = None,
        scores: dict[int, float] | None = None,
    ) -> dict[int, Affinity]:
        """Expert id → Affinity with the shared terms, for some experts (those picked); `query` and `scores`
        (at least those of these experts), when the caller already has them, save working them out again."""
        query = self.query(application) if query is None else query
        scores = self.scores(application, query) if scores is None else scores
        wanted = [pk for pk in expert_ids if pk in self.experts]
        terms = self.ranker.shared_terms(query, [(KIND, pk) for pk in wanted]) if query.terms else {}
        return {
            pk: Affinity(
                pk, scores.get(pk, 0.0), _shown(terms.get((KIND, pk), ())), self._matches(application, pk)
            )
            for pk in wanted
        }

    def rank(self, application, *, k: int | None = None, exclude: Iterable[int] = ()) -> list[Affinity]:
        """The experts closest to `application`, best first (ties by expert id), without those of `exclude`;
        experts with nothing in common are left out."""
        excluded = set(exclude)
        scores = self.scores(application)
        best = sorted((pk for pk in scores if pk not in excluded), key=lambda pk: (-scores[pk], pk))
        best = best[:k] if k is not None else best
        explained = self.explain(application, best)
        return [explained[pk] for pk in best]


def rank_experts(application, experts: Iterable, *, k: int | None = None) -> list[Affinity]:
    """The experts closest to one application (see ExpertAffinity for a whole call)."""
    return ExpertAffinity(experts).rank(application, k=k)
