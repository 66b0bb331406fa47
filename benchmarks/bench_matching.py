"""双向发榜 matching (issue 6): quality on the labelled evaluation set, and speed over 100,000 postings.

    .venv/bin/python benchmarks/bench_matching.py                 # evaluation (test half) + speed
    .venv/bin/python benchmarks/bench_matching.py --skip-speed    # evaluation only
    .venv/bin/python benchmarks/bench_matching.py --tune          # the parameter grid, on the tuning half only
    .venv/bin/python benchmarks/bench_matching.py --pool          # unlabelled top-10 hits, for the judging pass
    .venv/bin/python benchmarks/bench_matching.py --skip-quality --compare-bm25s   # speed, and bm25s's own build
    .venv/bin/python benchmarks/bench_matching.py --database sqlite:////tmp/kechuang-bench-matching.sqlite3
                                                  # the same postings in a database: kechuang's rebuild()

Quality. benchmarks/data/matching_eval/ (README.md there): 64 demands, each with its relevant achievements
among 267. The halves are fixed by README.md's rule (odd query number → tuning, even → test), decided before
any tuning. For each demand, the ranker is asked for the best 10 achievements (kinds = achievement only); reported
are recall@10 (share of a query's relevant achievements in its top 10, averaged over queries) and MRR@10
(1 / rank of the first relevant one, 0 when none is in the top 10). BM25 (kechuang.search.index.BM25Ranker with
the module's constants) and the character-TF-IDF baseline (kechuang.search.baseline) are run in the same process
on the same queries; ablations show what each part of BM25 brings.

Speed. 100,000 synthetic postings, generated with a fixed seed from the evaluation set's vocabulary (the tokens
of its titles, keywords and texts, drawn by their frequency; 15 % of text tokens from a long tail of two-term
compounds, as a real corpus has rare terms), with realistic lengths (title 4–14 tokens, keywords 3–8, text
60–360: abstracts of about 100–600 characters); kinds 50 % achievements, 30 % demands, 10 % talent profiles,
10 % enterprises; fields, parks and TRL at random. Timed in-process: building the index from tokens (what
`kechuang matching_reindex` does after reading the stored tokens; with --compare-bm25s, bm25s.BM25.index of the same
fields too), then 200 queries (128 of the 64 demands, with
and without filters, and 72 search-box queries of 1–3 dictionary terms) after 10 warm-up queries: p50 and p95;
then the same queries with 400 postings in the delta, and one fold. Tokenizing (done once per posting when it is
saved) is timed separately.

Prints the lines for RESULTS.md (it does not write it).
"""

from __future__ import annotations

import argparse
import itertools
import random
import resource
import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kechuang.search import index as search_index  # noqa: E402
from kechuang.search import tokenizer  # noqa: E402
from kechuang.search.baseline import CharTfidfRanker  # noqa: E402
from kechuang.search.index import BM25Ranker, Document, Filters, Query  # noqa: E402

DATA = ROOT / "benchmarks" / "data" / "matching_eval"
K = 10
ACHIEVEMENTS = Filters(kinds=frozenset({"achievement"}))


# —— The evaluation set ————————————————————————————————————————————————————————————————————————————————


def load():
    achievements = []
    for path in sorted((DATA / "achievements").glob("*.yaml")):
        field = path.stem
        for row in yaml.safe_load(path.read_text(encoding="utf-8")):
            achievements.append({**row, "field": field})
    queries = yaml.safe_load((DATA / "queries.yaml").read_text(encoding="utf-8"))
    known = {a["id"] for a in achievements}
    for q in queries:
        missing = [r for r in q["relevant"] if r not in known]
        assert not missing, f"{q['id']}: unknown relevant {missing}"
    return achievements, queries


def half(query_id: str) -> str:
    """README.md's rule, fixed before any tuning: odd query number → tuning, even → test."""
    return "tuning" if int(query_id.removeprefix("Q")) % 2 == 1 else "test"


def raw(title: str, keywords: str, text: str) -> str:
    return f"{title}\n{keywords}\n{text}"


def documents(achievements) -> list[Document]:
    docs = []
    for pk, a in enumerate(achievements, start=1):
        tokens = tokenizer.document_tokens(a["title"], a["keywords"], a["abstract"])
        docs.append(
            Document.from_tokens(
                "achievement",
                pk,
                tokens,
                field=a["field"],
                trl=a.get("trl"),
                raw=raw(a["title"], a["keywords"], a["abstract"]),
            )
        )
    return docs


def queries_of(queries, *, weights=None) -> list[Query]:
    out = []
    for q in queries:
        tokens = tokenizer.document_tokens(q["title"], q["keywords"], q["description"])
        out.append(
            Query.from_document(
                tokens,
                field=q["field"],
                raw=raw(q["title"], q["keywords"], q["description"]),
                weights=weights,
            )
        )
    return out


def evaluate(ranker, queries, built_queries, ids_by_pk) -> dict:
    recalls, rr = [], []
    for q, query in zip(queries, built_queries, strict=True):
        page = ranker.search(query, ACHIEVEMENTS, k=K)
        got = [ids_by_pk[r.pk] for r in page.results]
        relevant = set(q["relevant"])
        recalls.append(len(relevant & set(got)) / len(relevant))
        rank = next((i for i, g in enumerate(got, start=1) if g in relevant), None)
        rr.append(1 / rank if rank else 0.0)
    return {"recall": statistics.mean(recalls), "mrr": statistics.mean(rr), "n": len(queries)}


def bm25(docs, **params) -> BM25Ranker:
    ranker = BM25Ranker(**params)
    ranker.build(docs)
    return ranker


def quality(args) -> None:
    achievements, queries = load()
    docs = documents(achievements)
    ids_by_pk = {pk: a["id"] for pk, a in enumerate(achievements, start=1)}
    halves = {h: [q for q in queries if half(q["id"]) == h] for h in ("tuning", "test")}
    print(
        f"evaluation set: {len(achievements)} achievements, {len(queries)} queries "
        f"({len(halves['tuning'])} tuning, {len(halves['test'])} test), "
        f"{sum(len(q['relevant']) for q in queries)} relevance labels"
    )
    baseline = CharTfidfRanker()
    baseline.build(docs)
    w = search_index.FIELD_WEIGHTS
    systems = {
        f"BM25 (field weights {w['title']:g}/{w['keywords']:g}/{w['text']:g}, "
        f"field boost {search_index.FIELD_BOOST:g})": (bm25(docs), None),
        "BM25, field weights 3/2/1, query weights 3/2/1, no field boost (the starting point)": (
            bm25(docs, weights={"title": 3.0, "keywords": 2.0, "text": 1.0}, field_boost=0.0),
            {"title": 3.0, "keywords": 2.0, "text": 1.0},
        ),
        "BM25, no field boost (ablation)": (bm25(docs, field_boost=0.0), None),
        "character TF-IDF baseline (unigrams + bigrams, cosine)": (baseline, None),
    }
    print()
    print("| ranker | half | queries | recall@10 | MRR@10 |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name, (ranker, query_weights) in systems.items():
        for h in ("test", "tuning"):
            built = queries_of(halves[h], weights=query_weights)
            m = evaluate(ranker, halves[h], built, ids_by_pk)
            print(f"| {name} | {h} | {m['n']} | {m['recall']:.3f} | {m['mrr']:.3f} |")


def tune(args) -> None:
    """The grid, on the tuning half only (the test half is not read)."""
    achievements, queries = load()
    docs = documents(achievements)
    ids_by_pk = {pk: a["id"] for pk, a in enumerate(achievements, start=1)}
    tuning = [q for q in queries if half(q["id"]) == "tuning"]
    rows = []
    weight_grid = [(3, 2, 1), (1, 1, 1), (2, 1, 1), (2, 2, 1), (3, 1, 1), (3, 3, 1), (4, 2, 1), (1, 2, 1)]
    query_grid = [(3, 2, 1), (1, 1, 1), (2, 2, 1), (1, 1, 2)]
    for (wt, wk, wx), boost, (qt, qk, qx), k1, b in itertools.product(
        weight_grid, (0.0, 0.1, 0.25, 0.5), query_grid, (1.2,), (0.75,)
    ):
        ranker = bm25(
            docs,
            weights={"title": float(wt), "keywords": float(wk), "text": float(wx)},
            field_boost=boost,
            k1=k1,
            b=b,
        )
        built = queries_of(tuning, weights={"title": float(qt), "keywords": float(qk), "text": float(qx)})
        m = evaluate(ranker, tuning, built, ids_by_pk)
        rows.append((m["mrr"] + m["recall"], m, (wt, wk, wx), boost, (qt, qk, qx), k1, b))
    rows.sort(key=lambda r: -r[0])
    print("| field weights (t/k/x) | field boost | query weights (t/k/x) | k1 | b | recall@10 | MRR@10 |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
    for _, m, w, boost, qw, k1, b in rows[: args.top]:
        print(
            f"| {'/'.join(map(str, w))} | {boost:g} | {'/'.join(map(str, qw))} | {k1:g} | {b:g} "
            f"| {m['recall']:.3f} | {m['mrr']:.3f} |"
        )
    for k1, b in itertools.product((0.9, 1.2, 1.5, 2.0), (0.5, 0.75, 0.9)):
        ranker = bm25(docs, k1=k1, b=b)
        m = evaluate(ranker, tuning, queries_of(tuning), ids_by_pk)
        print(
            f"k1={k1} b={b} (other parameters as the module's): recall {m['recall']:.3f} MRR {m['mrr']:.3f}"
        )


def pool(args) -> None:
    """The unlabelled achievements in either system's top 10, per query: the pool read in the judging pass."""
    achievements, queries = load()
    docs = documents(achievements)
    by_id = {a["id"]: a for a in achievements}
    ids_by_pk = {pk: a["id"] for pk, a in enumerate(achievements, start=1)}
    rankers = [bm25(docs, field_boost=0.0), CharTfidfRanker()]
    rankers[1].build(docs)
    for q, query in zip(queries, queries_of(queries), strict=True):
        seen = []
        for ranker in rankers:
            for r in ranker.search(query, ACHIEVEMENTS, k=K).results:
                if ids_by_pk[r.pk] not in q["relevant"] and ids_by_pk[r.pk] not in seen:
                    seen.append(ids_by_pk[r.pk])
        print(f"{q['id']} {q['title']}  (labelled: {', '.join(q['relevant'])})")
        for i in seen:
            print(f"    {i} {by_id[i]['title']}")


# —— Speed ——————————————————————————————————————————————————————————————————————————————————————————————


def synthetic(n: int, seed: int = 20260601):
    """n synthetic postings drawn from the evaluation vocabulary (see the module's docstring)."""
    import numpy as np

    achievements, queries = load()
    counts: dict[str, dict[str, int]] = {"title": {}, "keywords": {}, "text": {}}
    for title, keywords, text in [(a["title"], a["keywords"], a["abstract"]) for a in achievements] + [
        (q["title"], q["keywords"], q["description"]) for q in queries
    ]:
        tokens = tokenizer.document_tokens(title, keywords, text)
        for f in counts:
            for t in tokens[f]:
                counts[f][t] = counts[f].get(t, 0) + 1
    rng = np.random.default_rng(seed)
    all_terms = sorted({t for c in counts.values() for t in c})
    pairs = rng.integers(0, len(all_terms), size=(200_000, 2))
    tail = np.array([all_terms[a] + all_terms[b] for a, b in pairs.tolist()], dtype=object)
    vocab = {}
    for f, c in counts.items():
        terms = np.array(list(c), dtype=object)
        weights = np.array(list(c.values()), float)
        vocab[f] = (terms, weights / weights.sum())

    def draw(f: str, m: int, tail_share: float = 0.0) -> tuple[str, ...]:
        terms, p = vocab[f]
        out = rng.choice(terms, size=m, p=p)
        if tail_share:
            rare = rng.random(m) < tail_share
            # a skewed draw over the long tail: a few compounds are common, most are rare
            out[rare] = tail[(len(tail) * rng.random(int(rare.sum())) ** 3).astype(int)]
        return tuple(out.tolist())

    kinds = ["achievement"] * 5 + ["demand"] * 3 + ["talent", "enterprise"]
    kind_of = rng.integers(0, len(kinds), size=n)
    docs = []
    for pk in range(1, n + 1):
        kind = kinds[kind_of[pk - 1]]
        docs.append(
            Document(
                kind,
                pk,
                draw("title", int(rng.integers(4, 15))),
                draw("keywords", int(rng.integers(3, 9))),
                draw("text", int(rng.integers(60, 361)), 0.15),
                field=f"0{int(rng.integers(1, 9))}",
                park=int(rng.integers(1, 21)) if kind in ("demand", "enterprise") else None,
                trl=int(rng.integers(1, 10)) if kind == "achievement" else None,
            )
        )
    return docs, queries


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def speed(args) -> None:
    n = args.postings
    started = time.perf_counter()
    docs, queries = synthetic(n)
    generated = time.perf_counter() - started
    tokens = sum(len(d.title) + len(d.keywords) + len(d.text) for d in docs)
    print(
        f"synthetic postings: {n:,} ({tokens / n:.0f} tokens each on average), generated in {generated:.1f} s"
    )

    ranker = BM25Ranker()
    started = time.perf_counter()
    ranker.build(docs)
    build = time.perf_counter() - started
    print(
        f"build: {build:.1f} s ({', '.join(f'{k} {v:.1f} s' for k, v in ranker.build_seconds.items())}); {ranker.stats()}"
    )
    if args.compare_bm25s:
        import bm25s

        started = time.perf_counter()
        for name in ("title", "keywords", "text"):
            bm25s.BM25(k1=ranker.k1, b=ranker.b, method="lucene").index(
                [list(getattr(d, name)) for d in docs], show_progress=False
            )
        print(
            f"for comparison, bm25s.BM25.index of the same three fields: {time.perf_counter() - started:.1f} s"
        )

    rng = random.Random(7)
    terms = tokenizer.dictionary_terms()
    built = queries_of(queries)
    workload: list[tuple[str, Query, Filters]] = []
    for query in built:
        workload.append(("demand → all kinds", query, Filters()))
    for query in built:
        workload.append(
            (
                "demand → achievements, field + TRL ≥ 4",
                query,
                Filters(kinds=frozenset({"achievement"}), fields=frozenset({query.field}), trl_min=4),
            )
        )
    while len(workload) < 200:
        text = " ".join(rng.sample(terms, rng.randint(1, 3)))
        try:
            workload.append(("search box, 1–3 terms", Query.from_text(text), Filters()))
        except search_index.QueryError:
            continue

    def run() -> dict[str, list[float]]:
        for _, query, filters in workload[:10]:
            ranker.search(query, filters, k=10)
        times: dict[str, list[float]] = {}
        for label, query, filters in workload:
            t0 = time.perf_counter()
            ranker.search(query, filters, k=10)
            times.setdefault(label, []).append((time.perf_counter() - t0) * 1000)
        return times

    def report(title: str, times: dict[str, list[float]]) -> None:
        every = [t for ts in times.values() for t in ts]
        print(f"\n{title}")
        print("| queries | n | p50 (ms) | p95 (ms) | max (ms) |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for label, ts in times.items():
            print(
                f"| {label} | {len(ts)} | {percentile(ts, 50):.1f} | {percentile(ts, 95):.1f} | {max(ts):.1f} |"
            )
        print(
            f"| all | {len(every)} | {percentile(every, 50):.1f} | **{percentile(every, 95):.1f}** "
            f"| {max(every):.1f} |"
        )

    report(f"queries over {n:,} postings (main index only)", run())

    # 400 edits in the delta (the fold starts past max(500, 5 % of the main rows)).
    edited = [
        Document(d.kind, d.pk, d.title, d.keywords, tuple(reversed(d.text)), d.field, d.park, d.trl)
        for d in rng.sample(docs, 400)
    ]
    t0 = time.perf_counter()
    for doc in edited:
        ranker.upsert([doc])
    upsert_ms = (time.perf_counter() - t0) * 1000 / len(edited)
    print(f"\nupsert: {upsert_ms:.2f} ms per posting; {ranker.stats()}")
    report("same queries with 400 postings in the delta", run())
    t0 = time.perf_counter()
    ranker.fold()
    print(f"\nfold into the main index: {time.perf_counter() - t0:.1f} s; {ranker.stats()}")

    achievements, _ = load()
    texts = [raw(a["title"], a["keywords"], a["abstract"]) for a in achievements] * 4
    t0 = time.perf_counter()
    tokenizer.warm_up()
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    chars = 0
    for text in texts:
        tokenizer.tokenize(text)
        chars += len(text)
    seconds = time.perf_counter() - t0
    print(
        f"\ntokenizer: warm-up {warm:.2f} s; {len(texts)} texts, {chars:,} characters in {seconds:.2f} s "
        f"({chars / seconds:,.0f} characters/s)"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of the process: {peak:,.0f} MiB")


def database(args) -> None:
    """The same 100,000 synthetic postings stored in a fresh database (with their tokens, as the services store
    them), then `kechuang.matching.index.rebuild()`: reading the published postings and their tokens, and the
    build, as `kechuang matching_reindex` and a process's first query do."""
    import os

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import fresh_database

    url = args.database
    started = time.perf_counter()
    fresh_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kechuang.settings")
    import django

    django.setup()
    from kechuang.core.uscc import make_code
    from kechuang.enterprises.models import Enterprise, Park
    from kechuang.matching import index
    from kechuang.matching.models import Achievement, Demand, TalentProfile

    docs, _ = synthetic(args.postings)
    parks = [Park.objects.create(name=f"园区{i}", kind="sub_park") for i in range(1, 21)]
    enterprises = Enterprise.objects.bulk_create(
        Enterprise(uscc=make_code(f"91310117MB{i:07d}"), name=f"合成企业{i}", park=parks[i % 20])
        for i in range(200)
    )
    rows = {"achievement": [], "demand": [], "talent": []}
    for d in docs:
        tokens = {
            "title": list(d.title),
            "keywords": list(d.keywords),
            "text": list(d.text),
            "v": tokenizer.VERSION,
        }
        common = dict(
            title=f"合成{d.kind}{d.pk}",
            field=d.field,
            state="published",
            fingerprint=f"合成{d.kind}{d.pk}",
            tokens=tokens,
        )
        if d.kind == "achievement":
            rows["achievement"].append(
                Achievement(organisation="合成大学", abstract="合成", trl=d.trl, **common)
            )
        elif d.kind == "demand":
            rows["demand"].append(Demand(enterprise=enterprises[d.pk % 200], description="合成", **common))
        else:  # talent profiles and the "enterprise" share: stored as talent profiles (100,000 postings in all)
            rows["talent"].append(TalentProfile(organisation="合成大学", bio="合成", **common))
    for model, objects in (
        (Achievement, rows["achievement"]),
        (Demand, rows["demand"]),
        (TalentProfile, rows["talent"]),
    ):
        model.objects.bulk_create(objects, batch_size=2000)
    print(
        f"database {url.split('@')[-1]}: {sum(map(len, rows.values())):,} postings stored "
        f"in {time.perf_counter() - started:.0f} s (migrations included)"
    )
    for attempt in (1, 2):
        t0 = time.perf_counter()
        counts = index.rebuild()
        print(f"rebuild() #{attempt}: {time.perf_counter() - t0:.1f} s; {counts}")
    index.forget()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tune", action="store_true")
    parser.add_argument("--pool", action="store_true")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--postings", type=int, default=100_000)
    parser.add_argument(
        "--compare-bm25s", action="store_true", help="also time bm25s.BM25.index on the fields"
    )
    parser.add_argument(
        "--database", help="store the synthetic postings in this fresh database; time rebuild()"
    )
    args = parser.parse_args()
    tokenizer.warm_up()
    if args.tune:
        return tune(args)
    if args.pool:
        return pool(args)
    if args.database:
        return database(args)
    if not args.skip_quality:
        quality(args)
    if not args.skip_speed:
        print()
        speed(args)


if __name__ == "__main__":
    main()
