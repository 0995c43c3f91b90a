"""Stop words: function words that carry no meaning for search, in English and Chinese.

Kept short on purpose: a word that might be a query on its own (`not`, `all`)
stays searchable. Chinese question words are listed too, so a question typed
as a query (`锣鼓经是什么？`) searches for its content words.
"""

ENGLISH_STOP_WORDS = frozenset(
    """a an the of to in on at by for from with into onto as and or but nor is are was were be been
    being am it its this that these those there their they them he she his her we our you your i me my
    than then so such via per do does did has have had will would can could should may might must
    which who whom whose what when where while also very just about over under""".split()  # noqa: SIM905
)

CHINESE_STOP_WORDS = frozenset(
    """的 了 和 是 在 也 与 及 等 都 而 就 对 将 被 从 以 之 其 或 即 并 且 又 该 此 这 那 这些 那些
    一个 一种 一些 个 上 中 下 里 着 过 得 地 吗 呢 吧 啊 呀 么 则 于 把 让 给 为 因为 所以 但 但是 如果
    虽然 而且 以及 还 更 很 非常 已经 通过 进行 可以 能够 没有 不是 由 之间 其中 它 它们 他们 我们 你们
    什么 哪 哪个 哪些 哪里 哪儿 谁 多少 几 怎么 怎样 怎么样 如何 为何 为什么 是否 是不是""".split()  # noqa: SIM905
)
