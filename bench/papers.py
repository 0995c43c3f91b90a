"""Related papers at a library's size: BibTeX libraries of 1,000, 5,000 and 20,000 papers, indexed and asked.

    .venv/bin/python bench/papers.py [--sizes 1000,5000,20000] [--queries 50] [--out bench/results/papers.json]

Each library is generated (titles, authors, years, venues, abstracts and
keywords drawn from fixed vocabularies by a seeded generator: authors recur, so
papers share them; abstracts name methods, so papers name each other) and
indexed with a hashing embedder (each word a fixed random direction: vectors
whose cosines follow shared words, at the default model's dimension, made in
microseconds — embedding grows linearly with the passages and is measured by
bench/run.py). For each size it reports the index run's time and the part the
paper graph took, the graph's files, an update after one entry changed (its
graph part), the first `related` in the opened index (reading the graph), and
the warm `related` latency over `--queries` titles (the Python API, one open
index, on this machine's cores), with the ratios to the smallest size.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer import build
from indexer.paper_graph import ARRAYS, GRAPH, MATERIAL
from search import open_index, related

WORK = ROOT / "bench" / "results" / "papers"
DIMENSION = 768
_WORDS = ["sparse", "attention", "pruning", "distillation", "quantization", "transformer", "convolution", "recurrent", "graph", "diffusion", "contrastive", "generative", "adversarial", "variational", "retrieval", "alignment", "reasoning", "instruction", "tuning", "optimization", "regularization", "normalization", "embedding", "tokenization", "segmentation", "detection", "translation", "summarization", "speech", "vision", "language", "multimodal", "reinforcement", "policy", "reward", "memory", "efficient", "scalable", "robust", "federated", "private", "causal", "explainable", "benchmark", "dataset", "evaluation", "pretraining", "finetuning"]
_METHODS = [f"{stem}{suffix}" for stem in ("Sparse", "Mega", "Tiny", "Deep", "Fast", "Omni", "Neo", "Hyper")
            for suffix in ("GPT", "BERT", "Net", "Former", "Prune", "Diff", "Mix", "Align")]
_GIVEN = ["Wei", "Jing", "Anna", "Maria", "John", "Li", "Chen", "Omar", "Sara", "Ivan", "Yuki", "Kenji", "Elena", "Paolo", "Ravi", "Priya", "Tom", "Lena", "Hugo", "Mei"]
_FAMILY = ["Wang", "Zhang", "Smith", "Garcia", "Kim", "Tanaka", "Rossi", "Muller", "Singh", "Ivanov", "Chen", "Liu", "Brown", "Silva", "Novak", "Haddad"]
_VENUES = ("NeurIPS", "ICML", "ICLR", "ACL", "EMNLP", "CVPR", "ICCV", "AAAI", "arXiv")


class HashingEmbedder:
    """Each word a fixed random direction; a text the unit sum of its words' (the bench's stand-in model)."""

    name = "hashing"
    dim = DIMENSION

    def __init__(self):
        self._words: dict[str, np.ndarray] = {}

    def fingerprint(self) -> str:
        return f"hashing-{DIMENSION}-1"

    def _word(self, word: str) -> np.ndarray:
        if word not in self._words:
            seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
            self._words[word] = np.random.default_rng(seed).standard_normal(DIMENSION).astype(np.float32)
        return self._words[word]

    def encode(self, texts) -> np.ndarray:
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for n, text in enumerate(texts):
            for word in text.lower().split()[:200]:
                out[n] += self._word(word)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def library(size: int, seed: int = 0) -> tuple[str, list[str]]:
    """A BibTeX library of `size` entries, and their titles."""
    rng = random.Random(seed)
    people = [f"{g} {f}" for g in _GIVEN for f in _FAMILY]
    entries, titles = [], []
    for n in range(size):
        method = rng.choice(_METHODS)
        words = rng.sample(_WORDS, 5)
        title = f"{method}: {' '.join(w.capitalize() for w in words[:3])} for {words[3].capitalize()} {n}"
        authors = " and ".join(", ".join(reversed(p.split())) for p in rng.sample(people, rng.randint(1, 6)))
        abstract = " ".join(rng.choice(_WORDS) for _ in range(60)) + f". We compare {rng.choice(_METHODS)} " \
                   f"with {rng.choice(_METHODS)} and {method}."
        keywords = ", ".join(rng.sample(_WORDS, 3))
        entries.append(f"@inproceedings{{paper{n},\n  title = {{{title}}},\n  author = {{{authors}}},\n"
                       f"  booktitle = {{{rng.choice(_VENUES)}}},\n  year = {{{rng.randint(1995, 2024)}}},\n"
                       f"  abstract = {{{abstract}}},\n  keywords = {{{keywords}}}\n}}\n")
        titles.append(title)
    return "\n".join(entries), titles


def measure(size: int, queries: int, work: Path) -> dict:
    """Index a library of `size` papers, update one entry, and ask `queries` titles warm; the timings."""
    folder, directory = work / f"lib{size}", work / f"index{size}"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(directory, ignore_errors=True)
    folder.mkdir(parents=True)
    text, titles = library(size)
    (folder / "papers.bib").write_text(text, encoding="utf-8")
    embedder = HashingEmbedder()
    started = time.perf_counter()
    report = build([str(folder)], str(directory), embedder=embedder)
    index_s = time.perf_counter() - started
    generation = directory / f"gen-{report.generation:06d}"
    sizes = {name: os.path.getsize(generation / name) for name in (MATERIAL, GRAPH, ARRAYS)}
    changed = text.replace("We compare", "We now compare", 1)
    (folder / "papers.bib").write_text(changed, encoding="utf-8")
    started = time.perf_counter()
    update = build([str(folder)], str(directory), embedder=embedder)
    update_s = time.perf_counter() - started
    rng = random.Random(1)
    asked = rng.sample(titles, min(queries, len(titles)))
    with open_index(str(directory), embedder=embedder) as index:
        started = time.perf_counter()
        first = related(index, asked[0], k=10)
        first_s = time.perf_counter() - started
        latencies = []
        for title in asked:
            started = time.perf_counter()
            result = related(index, title, k=10)
            latencies.append((time.perf_counter() - started) * 1000)
            assert result.anchor is not None and result.hits, title
    latencies.sort()
    return {"papers": size, "index_s": round(index_s, 2), "graph_s": round(report.timings["papers"], 2),
            "update_s": round(update_s, 2), "update_graph_s": round(update.timings["papers"], 2),
            "files_mb": {name: round(b / 2**20, 2) for name, b in sizes.items()},
            "first_related_s": round(first_s, 3), "anchor_found": first.anchor is not None,
            "warm_ms_p50": round(statistics.median(latencies), 1),
            "warm_ms_p95": round(latencies[int(0.95 * (len(latencies) - 1))], 1)}


def render(rows: list[dict]) -> str:
    base = rows[0]
    lines = [("| papers | index s | graph s | update: graph s | graph files MB | first related s | warm related ms "
             "p50 / p95 | graph s ÷ smallest | warm p95 ÷ smallest |"), "|---" * 9 + "|"]
    for row in rows:
        files = sum(row["files_mb"].values())
        lines.append(f"| {row['papers']:,} | {row['index_s']} | {row['graph_s']} | {row['update_graph_s']} | "
                     f"{files:.1f} | {row['first_related_s']} | {row['warm_ms_p50']} / {row['warm_ms_p95']} | "
                     f"{row['graph_s'] / max(base['graph_s'], 1e-9):.1f} (papers ×{row['papers'] // base['papers']}) | "
                     f"{row['warm_ms_p95'] / max(base['warm_ms_p95'], 1e-9):.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,5000,20000")
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "papers.json"))
    args = ap.parse_args(argv)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        rows.append(measure(size, args.queries, WORK))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(rows, indent=1), encoding="utf-8")
    print(render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
