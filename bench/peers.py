"""The tools a user could pick instead, over the same passage texts: optional comparisons, never dependencies.

    .venv/bin/pip install tantivy bm25s     # Whoosh and jieba come with notesearch

- tantivy (Rust, through tantivy-py) and bm25s (numpy sparse matrices), each
  given jieba's `lcut_for_search` tokens of the texts (lower-cased, tokens
  without a letter or digit dropped), on one whitespace-separated field;
- plain Whoosh with jieba's own `ChineseAnalyzer` on one field.

Each runs in a fresh process, in the same interleaved rounds as our
keyword-only index and jieba alone (bench/run.py, `keyword_rounds`), so that
its ratio to the jieba floor is a median of rounds as ours is. Its index time
counts what ours counts as the keyword part: jieba's dictionary load and
segmentation, then indexing (to a folder on disk for tantivy and Whoosh; bm25s
holds its index in memory). A query is segmented the same way and its top 10
read. notesearch indexes more
per passage (title, section, tags, links, character grams, fields' lengths),
so the peers are a reference, not a like-for-like race. A peer whose package
cannot be imported is skipped, with the reason printed.
"""

from __future__ import annotations

import os
import time

from children import load_json
from measure import load_during, load_range, median, per_query_ms, run_child, summary

PEERS = {"tantivy": "tantivy + jieba tokens", "bm25s": "bm25s + jieba tokens",
         "whoosh": "Whoosh + jieba ChineseAnalyzer"}


def _words(tokenizer, text: str) -> list[str]:
    return [word.lower() for word in tokenizer.lcut_for_search(text, HMM=True) if any(c.isalnum() for c in word)]


def _tantivy(texts: list[str], queries: list[str], folder: str) -> tuple[float, list[float]]:
    import jieba
    import tantivy

    started = time.perf_counter()
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("body", stored=False, tokenizer_name="whitespace")
    schema = builder.build()
    index = tantivy.Index(schema, path=folder)
    writer = index.writer()
    for text in texts:
        writer.add_document(tantivy.Document(body=" ".join(_words(tokenizer, text))))
    writer.commit()
    writer.wait_merging_threads()
    indexed = time.perf_counter() - started
    index.reload()
    searcher = index.searcher()

    def search(query: str) -> list:
        terms = [(tantivy.Occur.Should, tantivy.Query.term_query(schema, "body", word))
                 for word in _words(tokenizer, query)]
        return [address.doc for _score, address in searcher.search(tantivy.Query.boolean_query(terms), 10).hits]

    return indexed, _milliseconds(search, queries)


def _bm25s(texts: list[str], queries: list[str], _folder: str) -> tuple[float, list[float]]:
    import bm25s
    import jieba

    started = time.perf_counter()
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    retriever = bm25s.BM25()
    retriever.index([_words(tokenizer, text) for text in texts], show_progress=False)
    indexed = time.perf_counter() - started
    k = min(10, len(texts))

    def search(query: str) -> list:
        words = _words(tokenizer, query)
        return retriever.retrieve([words], k=k, show_progress=False).documents[0].tolist() if words else []

    return indexed, _milliseconds(search, queries)


def _whoosh(texts: list[str], queries: list[str], folder: str) -> tuple[float, list[float]]:
    import jieba
    from jieba.analyse import ChineseAnalyzer
    from whoosh import fields, index
    from whoosh import query as wq

    started = time.perf_counter()
    jieba.initialize()
    analyzer = ChineseAnalyzer()
    schema = fields.Schema(body=fields.TEXT(analyzer=analyzer))
    created = index.create_in(folder, schema)
    writer = created.writer()
    for text in texts:
        writer.add_document(body=text)
    writer.commit()
    indexed = time.perf_counter() - started

    with created.searcher() as searcher:
        def search(query: str) -> list:
            terms = [wq.Term("body", token.text) for token in analyzer(query)]
            return [hit.docnum for hit in searcher.search(wq.Or(terms), limit=10)]

        return indexed, _milliseconds(search, queries)


def _milliseconds(search, queries: list[str]) -> list[float]:
    search(queries[0])  # one untimed query first, as for notesearch's warm figures
    return per_query_ms(search, queries)


def child_peer(args: dict) -> dict:
    """Index seconds and per-query milliseconds of one peer, or the reason it was skipped."""
    run = {"tantivy": _tantivy, "bm25s": _bm25s, "whoosh": _whoosh}[args["peer"]]
    os.makedirs(args["folder"], exist_ok=True)
    try:
        indexed, ms = run(load_json(args["texts"])["keyword"], args["queries"], args["folder"])
    except ImportError as error:
        return {"skipped": f"cannot import it ({error}); `pip install tantivy bm25s` to compare"}
    return {"index_s": indexed, "ms": ms}


def run_peers(texts: str, queries: list[str], folder: str) -> dict:
    """One round: per peer, its child's result (index_s and ms, or `skipped`), peak RSS and the load average."""
    peers = {}
    for name in PEERS:
        with load_during({}) as record:
            measured, _, rss = run_child("peer", {"peer": name, "texts": texts, "queries": queries,
                                                  "folder": os.path.join(folder, name)})
        peers[name] = {**measured, "peak_rss_mb": rss, "load": record["load"]}
    return peers


def summarise_peers(rounds: list[dict]) -> dict:
    """Per peer over the rounds: median index seconds and median ratio to that round's jieba floor,
    warm query times pooled, the highest peak RSS, each round's load average; or the reason it was skipped."""
    peers = {}
    for name in PEERS:
        measured = [r["peers"][name] for r in rounds]
        if "skipped" in measured[0]:
            peers[name] = {"skipped": measured[0]["skipped"]}
            continue
        peers[name] = {"index_s": median([m["index_s"] for m in measured]),
                       "vs_jieba": median([m["index_s"] / r["jieba_s"] for m, r in zip(measured, rounds)]),
                       "peak_rss_mb": max(m["peak_rss_mb"] for m in measured),
                       "warm": summary([ms for m in measured for ms in m["ms"]]),
                       "loads": [m["load"] for m in measured]}
    return peers


def peers_table(corpora: dict) -> list[str]:
    """Ours beside each peer, per corpus: index time and its ratio to the jieba floor (medians of the rounds),
    warm query p50 / p95."""
    out = ["| corpus | tool | keyword index time / jieba floor | warm query p50 / p95 | peak RSS | load average |",
           "|---|---|---|---|---|---|"]
    for corpus, c in corpora.items():
        if "peers" not in c:
            continue
        out.append(f"| {corpus} | notesearch (keyword-only index; warm keyword) | {c['keyword_only_s']:.1f} s = "
                   f"**{c['keyword_vs_jieba']:.2f}×** | {c['warm']['keyword']['p50']:.1f} / "
                   f"{c['warm']['keyword']['p95']:.1f} ms | {max(r['peak_rss_mb'] for r in c['keyword_rounds']):.0f} MB | "
                   f"{load_range(*(r['load'] for r in c['keyword_rounds']))} |")
        for name, peer in c["peers"].items():
            if "skipped" in peer:
                out.append(f"| {corpus} | {PEERS[name]} | skipped: {peer['skipped']} | | | |")
                continue
            out.append(f"| {corpus} | {PEERS[name]} | {peer['index_s']:.1f} s = **{peer['vs_jieba']:.2f}×** | "
                       f"{peer['warm']['p50']:.2f} / {peer['warm']['p95']:.2f} ms | {peer['peak_rss_mb']:.0f} MB | "
                       f"{load_range(*peer['loads'])} |")
    return out
