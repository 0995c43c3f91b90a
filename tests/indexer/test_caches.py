"""ForgetfulCache: every cache of the indexer and of an open index stays within its limit by starting over."""

from __future__ import annotations

from indexer.caches import ForgetfulCache


def test_a_cache_empties_itself_before_it_would_pass_its_limit():
    cache = ForgetfulCache(3)
    for n in range(3):
        assert cache.keep(n, str(n)) == str(n)
    assert cache == {0: "0", 1: "1", 2: "2"} and cache.held == 3
    cache.keep(3, "3")
    assert cache == {3: "3"} and cache.held == 1


def test_a_weighed_cache_counts_what_its_values_cost():
    cache = ForgetfulCache(10, weigh=len)
    cache.keep("a", [0] * 6)
    cache.keep("b", [0] * 4)
    assert set(cache) == {"a", "b"} and cache.held == 10
    cache.keep("c", [0])
    assert set(cache) == {"c"} and cache.held == 1
    cache.keep("huge", [0] * 50)  # alone over the limit: held alone, until the next addition
    assert set(cache) == {"huge"} and cache.held == 50


def test_a_subclass_fills_itself_on_a_miss_within_the_limit():
    class Squares(ForgetfulCache):
        def __missing__(self, key: int) -> int:
            return self.keep(key, key * key)

    squares = Squares(2)
    assert [squares[n] for n in (3, 4, 3, 5)] == [9, 16, 9, 25]
    assert squares == {5: 25}
