"""The judgement sets' questions as people type them: in Traditional characters, in pinyin, with one typo.

    .venv/bin/python bench/variants.py [--sets seed,seed_more,dl500,d2l,cmrc] [--seed 27] [--out DIR]

Each kind rewrites a set's search questions with the packages the product
reads them with (OpenCC's data for script, jieba for words, pypinyin for
readings), seeded, so anyone re-running it gets the same questions:

- `traditional`: the question converted by OpenCC's `s2t` (questions it leaves
  unchanged are left out);
- `keywords` and `pinyin`: the question's content words (jieba's words, stop
  words aside, as the analyzer cuts them) as a short keyword query, in
  characters and in toneless pinyin without spaces inside a word
  (`自监督 视觉` → `zijiandu shijue`); for questions holding Chinese only;
- `typo`: one Latin word of five letters or more, chosen at random, with one
  random Damerau edit (two neighbours swapped, a letter left out, doubled or
  replaced by a neighbour on the keyboard); for questions holding such a word.

bench/quality.py runs them as kinds of query (`--variants`), each figure
beside the original questions' over the same judgements. The default writes
each kind's questions as JSONL into bench/results/variants/ to read.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from search.eval.evaluation import Judgement

KINDS = ("traditional", "keywords", "pinyin", "typo")
# Which original a kind is compared with: the pinyin questions with the same keywords in characters.
ORIGINAL_OF = {"traditional": "original", "keywords": "original", "pinyin": "keywords", "typo": "original"}
SEED = 27
MIN_TYPO_WORD = 5
_HAN = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(rf"(?<![\w:])[A-Za-z]{{{MIN_TYPO_WORD},}}(?![\w:])")
_KEYBOARD = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]


def _neighbours(letter: str) -> str:
    """The letters beside `letter` on a QWERTY keyboard (the same row and the rows above and below)."""
    for row, keys in enumerate(_KEYBOARD):
        col = keys.find(letter.lower())
        if col >= 0:
            near = "".join(r[c] for r in _KEYBOARD[max(0, row - 1):row + 2] for c in (col - 1, col, col + 1)
                           if 0 <= c < len(r) and r[c] != letter.lower())
            return near.upper() if letter.isupper() else near
    return "e"


def traditional(query: str) -> str:
    """The question in Traditional characters (OpenCC s2t: phrases first, then characters)."""
    return _converter().convert(query)


def _converter():
    import opencc

    global _S2T
    if _S2T is None:
        _S2T = opencc.OpenCC("s2t")
    return _S2T


_S2T = None


def keyword_words(query: str) -> list[str]:
    """The question's content words as typed, in order: its runs of jieba's words with no stop word or space
    between them (`为什么有效` → 有效, `自监督` whole), and its Latin words."""
    from indexer.analysis import Analyzer

    words: list[str] = []
    end = -1
    for token in Analyzer().tokens(query, subwords=False, stop=True):
        if words and token.start == end and _HAN.match(query[token.start]) and _HAN.match(query[end - 1]):
            words[-1] += query[token.start:token.end]
        else:
            words.append(query[token.start:token.end])
        end = token.end
    return words


def pinyin_words(words: list[str]) -> list[str]:
    """Each Chinese word as its toneless pinyin without spaces (`自监督` → `zijiandu`); other words as they are."""
    from pypinyin import Style, lazy_pinyin

    return ["".join(lazy_pinyin(word, style=Style.NORMAL)) if _HAN.search(word) else word for word in words]


def typo(query: str, rng: random.Random) -> str | None:
    """The question with one Damerau edit in one of its Latin words of MIN_TYPO_WORD letters or more, or None."""
    words = list(_LATIN_WORD.finditer(query))
    if not words:
        return None
    word = rng.choice(words)
    text = word.group()
    for _attempt in range(10):
        kind = rng.choice(("swap", "delete", "double", "replace"))
        i = rng.randrange(len(text) - 1) if kind == "swap" else rng.randrange(len(text))
        if kind == "swap":
            edited = text[:i] + text[i + 1] + text[i] + text[i + 2:]
        elif kind == "delete":
            edited = text[:i] + text[i + 1:]
        elif kind == "double":
            edited = text[:i] + text[i] + text[i:]
        else:
            edited = text[:i] + rng.choice(_neighbours(text[i])) + text[i + 1:]
        if edited.lower() != text.lower():
            return query[:word.start()] + edited + query[word.end():]
    return None


def variants(judgements: list[Judgement], kind: str, seed: int = SEED) -> list[Judgement]:
    """The search judgements whose question `kind` rewrites, each with its rewritten question (same id)."""
    out = []
    for j in judgements:
        if j.kind == "related":
            continue
        if kind == "traditional":
            query = traditional(j.query)
            query = query if query != j.query else None
        elif kind in ("keywords", "pinyin"):
            query = None
            if _HAN.search(j.query):
                words = keyword_words(j.query)
                if kind == "pinyin":
                    words = pinyin_words(words)
                query = " ".join(words) or None
        elif kind == "typo":
            query = typo(j.query, random.Random(f"{seed}:{j.id}"))
        else:
            raise ValueError(f"unknown kind of variant: {kind}")
        if query:
            out.append(replace(j, query=query))
    return out


def main(argv: list[str] | None = None) -> int:
    import quality

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default="seed,seed_more,dl500,d2l,cmrc")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "variants"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from search.eval.evaluation import read_judgements

    for name in args.sets.split(","):
        judgements = read_judgements(str(quality.SETS[name].file))
        for kind in KINDS:
            rows = variants(judgements, kind, args.seed)
            with open(out / f"{name}-{kind}.jsonl", "w", encoding="utf-8") as f:
                f.writelines(json.dumps({"id": j.id, "query": j.query}, ensure_ascii=False) + "\n" for j in rows)
            print(f"{name} {kind}: {len(rows)} questions → {out / f'{name}-{kind}.jsonl'}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "bench"))
    sys.exit(main())
