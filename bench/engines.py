"""e5-small's engines side by side on the same texts: rate and vectors, in one process, in interleaved rounds.

    .venv/bin/python bench/engines.py [--corpus ../shared/corpora/d2l-zh] [--texts 2000] [--rounds 3]
                                      [--batches 64,256,1024] [--out bench/results/engines.json]

The texts are what the indexer embeds for the corpus (each passage's
`embed_texts()`, in order of first appearance; `*_origin.md` left out), a
fixed random sample. Candidates, each timed per round in a rotated order so
that a change in the machine's load falls on all alike (the load average is
printed beside every figure):

- `numpy`: indexer/e5_numpy.py, float32 BLAS (the product's engine);
- `int8 (batch N)`: bench/e5_int8.py, onnxruntime's 8-bit products, given
  the texts N at a time as indexer/embedding.py does with EMBED_BATCH (a
  batch is sorted by length and padded to its longest: a larger N pads less);
- `onnx float32`: the same graph with every product in float32 (what
  onnxruntime's kernels give at the numpy engine's arithmetic);
- `int8 feed-forward`: only the feed-forward layer's two products in 8 bits
  (two thirds of the work), attention's in float32;
- `int8 smoothed (batch N)`: every product in 8 bits after SmoothQuant's
  per-channel scales (α = --alpha, from the bundled notes' texts:
  bench/e5_int8.py), and `int8 smoothed, fo float32`: the same with the
  feed-forward layer's output product in float32;
- `use-m3`: USE v3 on the same texts, the floor the issue measures against.

Vectors: the cosine of each onnxruntime vector to the numpy one (min, 1st
percentile, mean) over all the texts. Every rate is on every core
(available_cores()), as indexing runs; the rate per CPU second beside it is
the steadier figure on a shared machine (a busy machine slows the wall clock
far more than the CPU time).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from e5_int8 import FEED_FORWARD, calibration_texts, input_maxima, int8_engine, smoothing_scales
from measure import load_average


def corpus_texts(folder: Path, exclude: tuple[str, ...]) -> list[str]:
    """The distinct texts the indexer embeds for the notes under `folder`."""
    from corpus.documents import read_document
    from corpus.reading import find_note_files, read_bytes

    files, _skipped = find_note_files([folder], exclude)
    texts: dict[str, None] = {}
    for file in files:
        for passage in read_document(file.path, read_bytes(file)).passages:
            texts.update(dict.fromkeys(passage.embed_texts()))
    return [text for text in texts if text]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpora" / "d2l-zh"))
    ap.add_argument("--exclude", default="*_origin.md")
    ap.add_argument("--texts", type=int, default=2000, help="sample size (default 2000)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batches", default="64,256,1024", help="int8 batch sizes to time (default 64,256,1024)")
    ap.add_argument("--alpha", type=float, default=0.5, help="the smoothed candidates' α (default 0.5)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "engines.json"))
    args = ap.parse_args(argv)

    from indexer.embedders import E5Small, UseM3

    texts = corpus_texts(Path(args.corpus), tuple(p for p in args.exclude.split(",") if p))
    random.Random(0).shuffle(texts)
    texts = texts[:args.texts]
    e5, use = E5Small(), UseM3()
    int8, onnx_float, int8_ff = int8_engine(e5), int8_engine(e5, ()), int8_engine(e5, FEED_FORWARD)
    smooth = smoothing_scales(e5, input_maxima(e5, calibration_texts()), args.alpha)
    smoothed, smoothed_no_fo = int8_engine(e5, smooth=smooth), int8_engine(e5, ("qkv", "ao", "fi"), smooth)
    numpy_model = e5._model

    def in_batches(encode, size: int) -> np.ndarray:
        return np.vstack([encode(texts[i:i + size]) for i in range(0, len(texts), size)])

    candidates = {"numpy": lambda: in_batches(numpy_model.encode, 64),
                  **{f"int8 (batch {n})": (lambda n=n: in_batches(int8.encode, n))
                     for n in (int(b) for b in args.batches.split(","))},
                  **{f"int8 smoothed (batch {n})": (lambda n=n: in_batches(smoothed.encode, n))
                     for n in (int(b) for b in args.batches.split(","))},
                  "int8 smoothed, fo float32 (batch 64)": lambda: in_batches(smoothed_no_fo.encode, 64),
                  "onnx float32 (batch 64)": lambda: in_batches(onnx_float.encode, 64),
                  "int8 feed-forward (batch 64)": lambda: in_batches(int8_ff.encode, 64),
                  "use-m3": lambda: in_batches(use.encode, 64)}
    for encode in (use.encode, int8.encode, smoothed.encode, smoothed_no_fo.encode, onnx_float.encode, int8_ff.encode,
                   numpy_model.encode):  # warm: maps the weights, starts the session
        encode(texts[:8])
    seconds: dict[str, list[float]] = {name: [] for name in candidates}
    cpu: dict[str, list[float]] = {name: [] for name in candidates}
    loads: dict[str, list[list[float]]] = {name: [] for name in candidates}
    vectors: dict[str, np.ndarray] = {}
    names = list(candidates)
    for n in range(args.rounds):
        for name in names[n % len(names):] + names[:n % len(names)]:
            start_load, started, cpu_started = load_average(), time.perf_counter(), time.process_time()
            vectors[name] = candidates[name]()
            seconds[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - cpu_started)
            loads[name].append([start_load, load_average()])
            print(f"round {n + 1} {name}: {len(texts) / seconds[name][-1]:.1f} texts/s "
                  f"(load {start_load:.1f} → {load_average():.1f})", file=sys.stderr, flush=True)
    result = {"corpus": args.corpus, "texts": len(texts), "cores": len(os.sched_getaffinity(0)), "engines": {}}
    numpy_seconds = sorted(seconds["numpy"])[(args.rounds - 1) // 2]
    numpy_cpu = sorted(cpu["numpy"])[(args.rounds - 1) // 2]
    for name in names:
        median = sorted(seconds[name])[(args.rounds - 1) // 2]
        cpu_median = sorted(cpu[name])[(args.rounds - 1) // 2]
        entry = {"texts_per_s": len(texts) / median, "vs_numpy": numpy_seconds / median, "seconds": seconds[name],
                 "texts_per_cpu_s": len(texts) / cpu_median, "cpu_vs_numpy": numpy_cpu / cpu_median,
                 "cpu_seconds": cpu[name], "loads": loads[name]}
        if name not in ("numpy", "use-m3"):
            cosines = (vectors[name] * vectors["numpy"]).sum(axis=1)
            entry["cosine_to_numpy"] = {"min": float(cosines.min()), "p1": float(np.percentile(cosines, 1)),
                                        "mean": float(cosines.mean()), "below_0.99": int((cosines < 0.99).sum())}
        result["engines"][name] = entry
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"{len(texts)} texts of {args.corpus}, {result['cores']} cores, median of {args.rounds} rounds:")
    print("| engine | texts/s | × numpy | texts per CPU s | × numpy (CPU) "
          "| cosine to numpy: min / 1st pct / mean (below 0.99) | load average |")
    print("|---|---|---|---|---|---|---|")
    for name, entry in result["engines"].items():
        cos = entry.get("cosine_to_numpy")
        cos_text = (f"{cos['min']:.4f} / {cos['p1']:.4f} / {cos['mean']:.4f} ({cos['below_0.99']})" if cos else "—")
        values = [v for load in entry["loads"] for v in load]
        print(f"| {name} | {entry['texts_per_s']:.1f} | {entry['vs_numpy']:.2f}× | {entry['texts_per_cpu_s']:.1f} | "
              f"{entry['cpu_vs_numpy']:.2f}× | {cos_text} | "
              f"{min(values):.1f}–{max(values):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
