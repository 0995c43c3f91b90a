"""Whether pinyin initials (`zjd` for 自监督) would earn a place as a way in (issue 27): measured, not kept.

    .venv/bin/python bench/initials.py [--sets seed,seed_more,dl500,cmrc] [--cmrc-sample 500]

Two figures per judgement set, over the Chinese words of its questions as the
`keywords` variant cuts them (bench/variants.py):

- ambiguity: for each such word that the index holds, how many of the index's
  Chinese words share its initials, and whether the word meant is the most
  common of them (the one a reading would rank first) or among the first three;
- a trial: the `keywords` questions with each Chinese word typed as its
  initials, searched with the initials read as the index words they spell
  (the three most common, as pinyin is read), beside the same questions in
  characters; and the original questions with the trial on, to see what it
  takes from them. The trial patches Vocabulary.readings in this process only.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import quality
import variants as typed

from search import FusionConfig, Settings, search
from search.eval.evaluation import score_query
from search.query import spelling

_HAN = re.compile(r"[\u3400-\u9fff]")


def initials(word: str) -> str:
    """The first letter of each syllable of a Chinese word's pinyin (`自监督` → `zjd`)."""
    from pypinyin import Style, lazy_pinyin

    return "".join(syllable[0] for syllable in lazy_pinyin(word, style=Style.NORMAL) if syllable)


def by_initials(index) -> dict[str, list[str]]:
    """The index's Chinese words of two characters or more by their initials, the most common first."""
    out: dict[str, list[str]] = {}
    for term in dict.fromkeys(index._han_terms()):
        if len(term) >= 2:
            out.setdefault(initials(term), []).append(term)
    for terms in out.values():
        terms.sort(key=lambda term: -index.vocabulary.commonness(term))
    return out


def _ndcg(index, questions, mode: str, settings: Settings, places: dict) -> float:
    return statistics.fmean(score_query(j, [quality._span(h) for h in search(
        index, j.query, mode=mode, k=quality.K, settings=settings).hits], places, quality.K).ndcg for j in questions)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default="seed,seed_more,dl500,cmrc")
    ap.add_argument("--cmrc-sample", type=int, default=500)
    args = ap.parse_args(argv)
    from indexer.embedders import DEFAULT_MODEL
    from search.rank.fusion import keyword_weight_for

    settings = Settings(fusion=replace(FusionConfig(), keyword_weight=keyword_weight_for(DEFAULT_MODEL)))
    prepared, _embedder = quality.prepare(DEFAULT_MODEL, args.sets.split(","), args.cmrc_sample,
                                          lambda message: print(message, file=sys.stderr))
    tables: dict[int, dict[str, list[str]]] = {}
    trial = {"on": False}
    readings = spelling.Vocabulary.readings

    def with_initials(vocabulary, text: str, gaps: bool = True) -> list[str]:
        found = readings(vocabulary, text, gaps)
        if found or not trial["on"]:
            return found
        return tables[id(vocabulary)].get(text.lower(), [])[:spelling.MAX_RESPELLINGS]

    spelling.Vocabulary.readings = with_initials
    for index, judgement_set, judgements, places in prepared:
        table = tables.setdefault(id(index.vocabulary), by_initials(index))
        questions = typed.variants(judgements, "keywords")
        words = [word for j in questions for word in j.query.split() if _HAN.search(word) and word in
                 set(table.get(initials(word), ()))]
        ranks = [table[initials(word)].index(word) for word in words]
        sizes = [len(table[initials(word)]) for word in words]
        print(f"{judgement_set.name}: {len(words)} words the index holds; the meant word first "
              f"{sum(r == 0 for r in ranks) / max(len(ranks), 1):.2f}, in the first three "
              f"{sum(r < 3 for r in ranks) / max(len(ranks), 1):.2f}; index words per initials: median "
              f"{statistics.median(sizes) if sizes else 0}")
        typed_initials = [replace(j, query=" ".join(initials(w) if _HAN.search(w) else w for w in j.query.split()))
                          for j in questions]
        originals = [j for j in judgements if j.kind != "related"]
        for mode in ("keyword", "hybrid"):
            trial["on"] = False
            characters, before = (_ndcg(index, qs, mode, settings, places) for qs in (questions, originals))
            trial["on"] = True
            spelled, after = (_ndcg(index, qs, mode, settings, places) for qs in (typed_initials, originals))
            print(f"  {mode}: initials {spelled:.3f} of characters {characters:.3f} "
                  f"(ratio {spelled / characters:.3f}); originals {before:.3f} → {after:.3f}")
    spelling.Vocabulary.readings = readings
    return 0


if __name__ == "__main__":
    sys.exit(main())
