"""Other layouts of the development notes, with their related judgements: papers kept as researchers keep them.

    .venv/bin/python bench/layouts.py [--out bench/results/layouts]

Made from the bundled notes and ../shared/corpora/paperNotes (never copied into
the project: generated here, under bench/results/, each time it is missing):

- `bib/papers.bib`: the bundled table of papers as a BibTeX library, an entry
  per row (its title, authors and year; the row's note as the entry's
  annotation), in the order of the table.
- `notes_bib/`: the bundled notes with that library beside them: every paper
  is then both a row and an entry, and must still be one paper.
- `folders/`: paperNotes with each note about one paper moved into a folder of
  its own as `README.md` (the files named like it, its notebook, go with it);
  topic notes stay where they are.

Beside each, `related.jsonl`: the related judgements of the evaluation kit
(`seed_queries.jsonl` and `seed_queries_more.jsonl` for the bundled notes,
`papernotes_related.jsonl` for paperNotes), each target moved to the same
paper's place in the new layout (a `file` and its `lines`), ids kept.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from corpus import BUNDLED_NOTES
from corpus.documents import read_document
from corpus.model import Passage

SHARED = ROOT.parent / "shared"
EVAL = SHARED / "eval"
PAPER_NOTES = SHARED / "corpora" / "paperNotes"
OUT = ROOT / "bench" / "results" / "layouts"
TABLE = "famous-deep-learning-papers.md"
_BIB_SPECIAL = re.compile(r"([{}\\])")


def rows(notes: Path) -> list[Passage]:
    """The paper records of the bundled table, in the order of the table."""
    path = notes / TABLE
    passages = read_document(str(path), path.read_bytes()).passages
    return [p for p in passages if p.kind == "paper"]


def bibtex(records: list[Passage]) -> tuple[str, list[tuple[int, int]]]:
    """A BibTeX library of the records, and the lines (first, last) of each entry."""
    lines: list[str] = ["% The bundled table of papers as a BibTeX library (bench/layouts.py).", ""]
    spans = []
    for n, record in enumerate(records):
        paper = record.paper
        first = len(lines) + 1
        key = re.sub(r"\W", "", (paper.authors[0].split()[-1] if paper.authors else "anon")).lower()
        lines += [f"@article{{{key}{paper.year}_{n},",
                  f"  title = {{{_escaped(paper.title)}}},",
                  f"  author = {{{' and '.join(_escaped(a) for a in paper.authors)}}},",
                  f"  year = {{{paper.year}}},",
                  f"  annote = {{{_escaped(paper.note)}}}",
                  "}", ""]
        spans.append((first, len(lines) - 1))
    return "\n".join(lines), spans


def _escaped(text: str) -> str:
    return _BIB_SPECIAL.sub(lambda m: "" if m.group(1) in "{}" else "/", text)


def _row_of(records: list[Passage], table: list[str], snippet: str) -> int:
    """The number of the record whose line of the table holds `snippet`."""
    lines = [n for n, line in enumerate(table, 1) if snippet in line]
    return next(i for i, record in enumerate(records) if record.line_start in lines)


def bundled_judgements(records: list[Passage], table: list[str], to: str) -> list[dict]:
    """The related judgements of the bundled notes, each target the place of its paper: its row (`to` = "rows")
    or its entry of the library (`to` = "bib")."""
    spans = bibtex(records)[1]
    out = []
    for name in ("seed_queries.jsonl", "seed_queries_more.jsonl"):
        for line in (EVAL / name).read_text(encoding="utf-8").splitlines():
            judgement = json.loads(line) if line.strip() else None
            if not judgement or judgement["kind"] != "related":
                continue
            relevant = []
            for target in judgement["relevant"]:
                row = _row_of(records, table, target["snippet"])
                file, place = (TABLE, (records[row].line_start,) * 2) if to == "rows" else ("papers.bib", spans[row])
                relevant.append({"target": target["target"], "file": file, "lines": list(place),
                                 "grade": target["grade"]})
            out.append({**judgement, "relevant": relevant})
    return out


def folders(source: Path, target: Path) -> dict[str, str]:
    """paperNotes with each note about one paper as README.md in a folder of its own (with the files named like
    it); returns {old path: new path} of the notes moved, relative to the corpus root."""
    shutil.copytree(source, target)
    moved = {}
    contents = target / "docs" / "contents"
    for note in sorted(contents.rglob("*.md")):
        passages = read_document(str(note), note.read_bytes()).passages
        if not any(p.kind == "paper" and p.paper.source == "note" for p in passages):
            continue
        folder = note.parent / note.stem
        folder.mkdir()
        for companion in sorted(note.parent.rglob(f"{note.stem}.*")):
            if companion != note and companion.is_file():
                shutil.move(str(companion), folder / companion.name)
        shutil.move(str(note), folder / "README.md")
        moved[str(note.relative_to(target))] = str((folder / "README.md").relative_to(target))
    return moved


def folder_judgements(moved: dict[str, str]) -> list[dict]:
    """paperNotes' related judgements with each target note moved as `folders` moved it."""
    out = []
    for line in (EVAL / "papernotes_related.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            judgement = json.loads(line)
            judgement["relevant"] = [{**t, "file": moved.get(t["file"], t["file"])} for t in judgement["relevant"]]
            out.append(judgement)
    return out


def make(out: Path = OUT) -> Path:
    """Write every layout and its judgements under `out` (anew); returns `out`."""
    if out.exists():
        shutil.rmtree(out)
    records = rows(BUNDLED_NOTES)
    table = (BUNDLED_NOTES / TABLE).read_text(encoding="utf-8").split("\n")
    library, _spans = bibtex(records)
    (out / "bib").mkdir(parents=True)
    (out / "bib" / "papers.bib").write_text(library, encoding="utf-8")
    _write(out / "bib.jsonl", bundled_judgements(records, table, "bib"))
    shutil.copytree(BUNDLED_NOTES, out / "notes_bib")
    (out / "notes_bib" / "papers.bib").write_text(library, encoding="utf-8")
    _write(out / "notes_bib.jsonl", bundled_judgements(records, table, "rows"))
    moved = folders(PAPER_NOTES, out / "folders")
    _write(out / "folders.jsonl", folder_judgements(moved))
    return out


def _write(path: Path, judgements: list[dict]) -> None:
    path.write_text("".join(json.dumps(j, ensure_ascii=False) + "\n" for j in judgements), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(OUT), help="where to write the layouts (replaced)")
    args = ap.parse_args(argv)
    if not EVAL.is_dir() or not PAPER_NOTES.is_dir():
        print(f"layouts.py needs {EVAL} and {PAPER_NOTES}", file=sys.stderr)
        return 1
    print(make(Path(args.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
