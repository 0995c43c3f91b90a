"""d2l-zh as PDFs against d2l-zh as Markdown: the cross-lingual judgements scored at the page level.

    .venv/bin/python bench/print_corpus.py ../shared/corpora/d2l-zh bench/results/pdf/d2l-zh
    .venv/bin/python bench/pdf_quality.py [--model MODEL]

The Chinese chapters of d2l-zh (`*_origin.md` left out) are indexed twice, as
Markdown and as the PDFs Chromium printed of them (bench/print_corpus.py), each
into an index in bench/results/pdf/ (`--fresh`: from scratch), and `d2l_crosslingual_queries.jsonl`
is run on both in every mode.

Judged at the page level: a judged Markdown line range becomes the pages of the
chapter's PDF that hold its text. Each Markdown passage (corpus/markdown.py) is
looked for in the PDF's text, both folded (corpus.text.comparable: NFKC, case,
letters and digits only), by its first and its last 24 characters, searching on
from where the passage before it was found; the passage's lines map to the
pages from the one holding its start to the one holding its end, and a line
range to the pages of the passages in it. A PDF hit counts when its page is
among its target's pages; a Markdown hit is mapped to pages the same way, so
the two indexes are judged alike. Also printed: the Markdown index judged by
lines, as bench/quality.py judges it, and how many targets could be mapped.
"""

from __future__ import annotations

import argparse
import bisect
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from corpus.markdown import passages_of
from corpus.pdf import extract
from corpus.reading import NoteFile, read_note
from corpus.text import comparable
from indexer import build
from indexer.embedders import DEFAULT_MODEL, load_embedder
from search import open_index, search
from search.eval.evaluation import Judgement, Span, Target, read_judgements, score_query

SHARED = ROOT.parent / "shared"
D2L = SHARED / "corpora" / "d2l-zh"
JUDGEMENTS = SHARED / "eval" / "d2l_crosslingual_queries.jsonl"
WORK = ROOT / "bench" / "results" / "pdf"
PROBE = 24
MODES = ("hybrid", "semantic", "keyword")


def line_pages(note: Path, pdf: Path) -> dict[int, tuple[int, int]]:
    """Each line of the Markdown note that a passage holds → the first and last page of the PDF holding it."""
    pages = [comparable("".join(line.text for line in page)) for page in extract(pdf.read_bytes()).pages]
    starts = [0]
    for text in pages:
        starts.append(starts[-1] + len(text))
    whole = "".join(pages)

    def page_of(offset: int) -> int:
        return bisect.bisect_right(starts, offset)  # 1-based: starts[0] == 0

    out: dict[int, tuple[int, int]] = {}
    cursor = 0
    for passage in passages_of(read_note(NoteFile(str(note), ""))):
        folded = comparable(passage.text)
        if not folded:
            continue
        begin = whole.find(folded[:PROBE], cursor)
        if begin < 0:
            begin = whole.find(folded[:PROBE])
        if begin < 0:
            continue
        end = whole.find(folded[-PROBE:], begin)
        last = end + min(PROBE, len(folded)) - 1 if end >= 0 else begin
        for line in range(passage.line_start, passage.line_end + 1):
            out[line] = (page_of(begin), page_of(last))
        cursor = begin
    return out


def page_judgements(judgements: Sequence[Judgement], maps: dict[str, dict[int, tuple[int, int]]]
                    ) -> tuple[list[Judgement], int, int]:
    """The judgements with each target's lines as pages (a target no page holds is left out), and how many targets
    were mapped out of how many."""
    out, mapped, total = [], 0, 0
    for judgement in judgements:
        targets = []
        for target in judgement.relevant:
            total += 1
            lines = maps.get(target.file, {})
            pages = [lines[n] for n in range(target.lines[0], target.lines[1] + 1) if n in lines]
            if pages:
                mapped += 1
                targets.append(Target(target.name, target.grade, file=target.file,
                                      lines=(min(p[0] for p in pages), max(p[1] for p in pages))))
        out.append(Judgement(judgement.id, judgement.kind, judgement.query, tuple(targets)))
    return out, mapped, total


def relative(path: str, root: Path) -> str:
    return str(Path(path).relative_to(root))


def run(index_dir: str, embedder, judgements: Sequence[Judgement], to_span) -> dict[str, list]:
    """Each mode's hits for each judgement, as spans `to_span(hit)` makes of them."""
    answers: dict[str, list] = {}
    with open_index(index_dir, embedder=embedder) as index:
        for mode in MODES:
            answers[mode] = [[to_span(hit) for hit in search(index, j.query, mode=mode, k=10).hits]
                             for j in judgements]
    return answers


def mean(judgements, answers, places=None) -> float:
    scores = [score_query(j, hits, places or {}, 10) for j, hits in zip(judgements, answers)]
    return sum(s.ndcg for s in scores) / len(scores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--pdfs", default=str(WORK / "d2l-zh"), help="where bench/print_corpus.py printed d2l-zh")
    parser.add_argument("--fresh", action="store_true", help="index both from scratch (else an index there is "
                                                             "brought up to date, and its time is that of the update)")
    args = parser.parse_args()
    pdfs = Path(args.pdfs)
    judgements = [j for j in read_judgements(str(JUDGEMENTS)) if j.kind == "search"]
    embedder = load_embedder(args.model)
    timings = {}
    for name, folder, exclude in (("markdown", D2L, ["*_origin.md", "*.pdf"]), ("pdf", pdfs, [])):
        index_dir = WORK / f"index-{name}"
        if index_dir.exists() and args.fresh:
            import shutil

            shutil.rmtree(index_dir)
        started = time.perf_counter()
        report = build([str(folder)], str(index_dir), model=args.model, exclude=exclude, embedder=embedder)
        timings[name] = (time.perf_counter() - started, report)
        print(f"indexed {name}: {report.added} files, {report.passages} passages, {report.embedded} embedded, "
              f"{len(report.skipped)} skipped, in {timings[name][0]:.0f} s "
              f"(reading {report.timings.get('parse', 0):.0f} s)", flush=True)
    started = time.perf_counter()
    maps = {}
    for file in sorted({t.file for j in judgements for t in j.relevant}):
        maps[file] = line_pages(D2L / file, pdfs / Path(file).with_suffix(".pdf"))
    by_page, mapped, total = page_judgements(judgements, maps)
    print(f"mapped {mapped} of {total} judged targets to pages ({time.perf_counter() - started:.0f} s)")
    all_maps: dict[str, dict[int, tuple[int, int]]] = {}

    def md_page(hit) -> Span:
        file = relative(hit.passage.path, D2L)
        if file not in all_maps:
            all_maps[file] = maps.get(file) or line_pages(D2L / file, pdfs / Path(file).with_suffix(".pdf"))
        lines = all_maps[file]
        pages = [lines[n] for n in range(hit.passage.line_start, hit.passage.line_end + 1) if n in lines]
        if not pages:
            return Span(file, 0, 0)
        return Span(file, min(p[0] for p in pages), max(p[1] for p in pages))

    def pdf_page(hit) -> Span:
        page = int(hit.passage.region[1:])
        return Span(str(Path(relative(hit.passage.path, pdfs)).with_suffix(".md")), page, page)

    def md_lines(hit) -> Span:
        return Span(relative(hit.passage.path, D2L), hit.passage.line_start, hit.passage.line_end)

    markdown = run(str(WORK / "index-markdown"), embedder, judgements, lambda hit: hit)
    pdf = run(str(WORK / "index-pdf"), embedder, judgements, pdf_page)
    rows = []
    print("\n| mode | Markdown, by lines | Markdown, by pages | PDF, by pages | PDF − Markdown (pages) |")
    print("|---|---|---|---|---|")
    for mode in MODES:
        by_lines = mean(judgements, [[md_lines(h) for h in hits] for hits in markdown[mode]])
        md_pages = mean(by_page, [[md_page(h) for h in hits] for hits in markdown[mode]])
        pdf_pages = mean(by_page, pdf[mode])
        rows.append({"mode": mode, "markdown_lines": by_lines, "markdown_pages": md_pages, "pdf_pages": pdf_pages})
        print(f"| {mode} | {by_lines:.3f} | {md_pages:.3f} | {pdf_pages:.3f} | {pdf_pages - md_pages:+.3f} |")
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "pdf_quality.json").write_text(json.dumps({
        "model": args.model, "rows": rows, "mapped": mapped, "targets": total,
        "seconds": {name: seconds for name, (seconds, _report) in timings.items()},
        "passages": {name: report.passages for name, (_seconds, report) in timings.items()}}, indent=1))


if __name__ == "__main__":
    main()
