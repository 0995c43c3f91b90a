"""The corpus stage: note files → Note → Passage (with Paper records)."""

from pathlib import Path

BUNDLED_NOTES = Path(__file__).resolve().parent / "notes"
