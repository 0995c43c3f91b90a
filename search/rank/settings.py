"""The tuned values a search and a related-papers call read, passed with each call as one plain value.

    result = search(index, "自监督 视觉", settings=Settings(first_share=0.5))

Every value here was chosen by leave-one-corpus-out cross-validation
(bench/quality.py --cv, which tries others by passing other Settings, never by
changing a module's globals); the defaults are the chosen ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from indexer.vectors import FIRST_SHARE
from search.rank.fusion import DEFAULT_FUSION, FusionConfig

# A query's form with the glossary's translations of its words is read (a second reading of the whole query) only
# when the translations make at least this share of it (search/query/plan.py translation_share): a long question
# with a term or two added gains nothing from it and costs twice. Chosen by leave-one-corpus-out cross-validation
# (bench/quality.py --cv, hybrid nDCG@10, cmrc2018 sampled to 500): fitted 0.1 (0.856 mean; reading every
# translation, 0.855), each corpus left out 0.853 (dl500's fold chose 0.5: 0.690 against 0.697). At 0.1, d2l-zh
# reads 9 of its 23 translated questions twice, dl500 all 27, the bundled notes' sets all 15.
TRANSLATION_SHARE = 0.1

# The weights of the related-papers signals (search/relate/graph.py). Fitted on the related judgements of six
# sets — the bundled notes (seed, seed_more), paperNotes, and the same papers as a BibTeX library, beside the notes
# and as a folder per paper (bench/layouts.py) — the mean over sets 0.830; cross-validated (bench/quality.py
# --cv-related), each query left out (with its copies in other layouts): 0.819. A topic note's weight is 0: no fold
# gains by answering with one. Tags are held (no judged paper has any).
RELATED_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"link": 4.0, "reference": 2.0, "together": 1.0, "similar": 3.0, "terms": 3.0, "authors": 0.5, "tags": 0.25,
     "year": 1.0, "topic": 0.0})


@dataclass(frozen=True)
class Settings:
    """The tuned values of a search (`fusion`, `first_share`, `mixed_script_shares`) and of related papers
    (`related_weights`).

    `fusion` weighs the keyword and vector rankings (search/rank/fusion.py).
    `first_share` is the share of a passage's first row in its vector score
    (indexer/vectors.py FIRST_SHARE). `mixed_script_shares` gives, by model
    name, a model's share of the cosine for a query that mixes Chinese and
    English (None: indexer/embedders.py MIXED_SCRIPT_SHARES, read only when a
    query is embedded). `translation_share` is the least share of a query's
    translated form that its translations must make for the form to be read
    (search/rank/ranking.py query_vector). `related_weights` weigh the related-papers signals by
    name (link, reference, together, similar, terms, authors, tags, year, topic).
    """

    fusion: FusionConfig = DEFAULT_FUSION
    first_share: float = FIRST_SHARE
    mixed_script_shares: Mapping[str, float] | None = None
    translation_share: float = TRANSLATION_SHARE
    related_weights: Mapping[str, float] = field(default_factory=lambda: RELATED_WEIGHTS)


DEFAULT_SETTINGS = Settings()
