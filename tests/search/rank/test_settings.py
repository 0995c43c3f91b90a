"""Settings: the tuned values reach the rankings through the call, not through module globals."""

from __future__ import annotations

from indexer import embedders, vectors
from search import FusionConfig, Settings, related, search
from search.rank.settings import RELATED_WEIGHTS

MIXED = "Transformer 出现之前怎么做注意力"  # Chinese and English in one query


def cosines(result) -> dict:
    return {(hit.passage.path, hit.passage.line_start): round(hit.vector_score, 6) for hit in result.hits}


def answer(result) -> list[tuple]:
    return [(hit.passage.id, round(hit.score, 9), hit.keyword_rank, hit.vector_rank) for hit in result.hits]


def test_the_defaults_are_the_values_a_search_takes_without_settings(bundled_index):
    spelled = Settings(FusionConfig(), vectors.FIRST_SHARE, dict(embedders.MIXED_SCRIPT_SHARES), dict(RELATED_WEIGHTS))
    plain = answer(search(bundled_index, MIXED, mode="hybrid", k=10))
    assert plain and answer(search(bundled_index, MIXED, mode="hybrid", k=10, settings=spelled)) == plain


def test_the_first_rows_share_is_read_from_the_settings(bundled_index):
    query = "扩散模型 采样效率"
    own = cosines(search(bundled_index, query, mode="semantic", k=30, settings=Settings(first_share=1.0)))
    best = cosines(search(bundled_index, query, mode="semantic", k=30, settings=Settings(first_share=0.0)))
    assert own != best  # a passage of several rows scores by its own row, or by its best one
    assert all(best[span] >= cosine for span, cosine in own.items() if span in best)  # the best row is the best
    assert vectors.FIRST_SHARE == Settings().first_share  # nothing global was changed


def test_the_mixed_script_shares_are_read_from_the_settings(bundled_index):
    default = cosines(search(bundled_index, MIXED, mode="semantic", k=10))
    own_shares = cosines(search(bundled_index, MIXED, mode="semantic", k=10, settings=Settings(mixed_script_shares={})))
    assert default != own_shares
    chinese = "注意力机制的来历"  # one script: the mixed shares do not apply
    assert cosines(search(bundled_index, chinese, mode="semantic", k=10)) == \
           cosines(search(bundled_index, chinese, mode="semantic", k=10, settings=Settings(mixed_script_shares={})))


def test_the_related_weights_are_read_from_the_settings(bundled_index):
    only_years = Settings(related_weights={name: (1.0 if name == "year" else 0.0) for name in RELATED_WEIGHTS})
    result = related(bundled_index, "Attention is All You Need", k=8, settings=only_years)
    gaps = [abs(hit.passage.paper.year - result.anchor.paper.year) for hit in result.hits]
    assert gaps == sorted(gaps)  # nearness in time alone orders them
    usual = related(bundled_index, "Attention is All You Need", k=8)
    assert [hit.passage.id for hit in usual.hits] != [hit.passage.id for hit in result.hits]
