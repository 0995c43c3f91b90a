"""The targets and the Markdown tables printed at the end of a run, each table with its load average."""

from __future__ import annotations

from busy import busy_loads, busy_table
from first_use import first_use_table
from growth import growth_table
from measure import load_range, load_text
from peers import peers_table

TARGETS = {  # figure → (limit, what it is, where it comes from)
    "keyword_vs_jieba": (2.0, "keyword indexing ≤ 2× jieba alone (load + `lcut_for_search`)", "17"),
    "index_time_4x": (4.4, "index time at 4× d2l-zh ≤ 4.4× 1× (linear growth)", "17"),
    "peak_rss_4x_mb": (600.0, "peak RSS indexing 4× d2l-zh ≤ 600 MB", "17"),
    "warm_p95_16x": (2.0, "warm p95 at 16× d2l-zh ≤ 2× 1× (hybrid where 16× has vectors, else keyword)", "17"),
    "cold_keyword_vs_bare": (1.3, "cold keyword search ≤ 1.3× a bare process that loads jieba", "17"),
    "busy_hybrid_p95_ratio": (4.0, "warm hybrid p95 with two busy processes ≤ 4× quiet", "17"),
    "embed_vs_model": (1.3, "embedding ≤ 1.3× the embedder alone", "17"),
    "first_index_s": (300.0, "first index of d2l-zh ≤ 5 minutes (seconds, a fresh process)", "17"),
    "cold_hybrid_vs_bare": (1.5, "cold hybrid search ≤ 1.5× bare jieba+model process", "earlier"),
    "warm_hybrid_p95_ms": (50.0, "warm hybrid p95 ≤ 50 ms (d2l-zh, quiet)", "earlier"),
    "incremental_s": (2.0, "incremental one-file `index` ≤ 2 s (d2l-zh), a fresh process alone", "earlier"),
    "incremental_served_s": (2.0, "incremental one-file `index` ≤ 2 s (d2l-zh), `serve` running (p50)", "earlier"),
    "peak_rss_mb": (600.0, "peak RSS ≤ 600 MB indexing d2l-zh (hybrid)", "earlier"),
    "cold_hybrid_vs_keyword": (1.5, "cold hybrid search ≤ 1.5× cold keyword search (bundled notes, p50)", "30"),
    "first_index_vs_use": (2.0, "first index of d2l-zh ≤ 2× the same with use-m3 alone (fresh processes)", "30"),
    "first_search_s": (8.0, "first search of a new user (converts the models, builds the index) ≤ 8 s, p50", "30"),
    "busy_hybrid_p95_ms": (100.0, "warm hybrid p95 with two busy processes ≤ 100 ms (d2l-zh)", "30"),
}


def targets(results: dict) -> list[dict]:
    """Each target with its measured figure (None when this run did not measure it); [] without d2l-zh."""
    d2l = results["corpora"].get("d2l-zh")
    first = results.get("first_use", {})
    if d2l is None:
        return []
    busy = results.get("busy")
    growth = results.get("growth_ratios", {})
    p95_16x = growth.get("warm_p95_16x", {})
    figures = {"keyword_vs_jieba": d2l["keyword_vs_jieba"], "embed_vs_model": d2l["embed_vs_model"],
               "index_time_4x": growth.get("index_time_4x"), "peak_rss_4x_mb": growth.get("peak_rss_4x_mb"),
               "warm_p95_16x": p95_16x.get("hybrid", p95_16x.get("keyword")),
               "cold_keyword_vs_bare": d2l["cold"]["keyword_vs_bare"],
               "busy_hybrid_p95_ratio": results["busy"]["hybrid_p95_ratio"] if "busy" in results else None,
               "first_index_s": d2l["build_wall_s"], "cold_hybrid_vs_bare": d2l["cold"]["hybrid_vs_bare"],
               "warm_hybrid_p95_ms": d2l["warm"]["hybrid"]["p95"], "incremental_s": d2l["incremental"]["cli_s"],
               "incremental_served_s": d2l["incremental"]["served"]["p50"], "peak_rss_mb": d2l["peak_rss_mb"],
               "cold_hybrid_vs_keyword": first.get("hybrid_vs_keyword"), "first_index_vs_use": d2l.get("build_vs_use_alone"),
               "first_search_s": first["first_search"]["p50"] if first else None,
               "busy_hybrid_p95_ms": busy["states"][busy["kinds"][0]]["hybrid"]["p95"] if busy else None}
    return [{"name": name, "value": figures[name], "limit": limit, "text": text, "issue": issue,
             "met": None if figures[name] is None else figures[name] <= limit}
            for name, (limit, text, issue) in TARGETS.items()]


def corpora_table(corpora: dict) -> list[str]:
    """Every corpus's figures beside their floors."""
    names = list(corpora)
    row = lambda label, fn: f"| {label} | " + " | ".join(fn(corpora[n]) for n in names) + " |"
    out = ["| | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|",
           row("load average (start → end of the corpus)", lambda c: load_range(c.get("load"))),
           row("files / MB / passages", lambda c: f"{c['files']} / {c['mb']:.1f} / {c['passages']}"),
           row("full index with use-m3 alone (wall, fresh process) / ratio",
               lambda c: f"{c['use_alone_build_wall_s']:.1f} s / **{c['build_vs_use_alone']:.2f}×** "
                         f"(load {load_range(c.get('use_alone_load'))})" if "use_alone_build_wall_s" in c else "—"),
           row("full index total (wall, fresh process)",
               lambda c: f"{c['timings']['total']:.1f} s ({c['build_wall_s']:.1f} s; {c['mb_per_s'] * 1000:.0f} KB/s, "
                         f"{c['passages_per_s']:.0f} passages/s)"),
           row("parse", lambda c: f"{c['timings']['parse']:.1f} s"),
           row("keyword part + dictionary load, keyword-only index / jieba alone (load + lcut_for_search), medians of rounds",
               lambda c: f"{c['keyword_only_s']:.1f} s / {c['jieba_alone_s']:.1f} s = **{c['keyword_vs_jieba']:.2f}×** "
                         f"(rounds: {', '.join(format(r['ratio'], '.2f') for r in c['keyword_rounds'])}; "
                         f"load + `cut` only: {c['jieba_cut_s']:.1f} s)"),
           row("keyword part + dictionary load of the full index / jieba alone",
               lambda c: f"{c['timings']['keyword']:.1f} + {c['timings']['dictionary']:.1f} s = "
                         f"{c['keyword_in_build_vs_jieba']:.2f}×"),
           row("embedding part / model alone", lambda c: f"{c['timings']['embed']:.1f} s / {c['model_alone_s']:.1f} s"
                                                         f" = **{c['embed_vs_model']:.2f}×**"),
           row("index size (keyword + vectors)",
               lambda c: f"{c['index_mb']:.1f} MB ({c['keyword_mb']:.1f} + {c['vectors_mb']:.1f})"),
           row("peak RSS indexing / model alone", lambda c: f"{c['peak_rss_mb']:.0f} MB / {c['model_alone_rss_mb']:.0f}"
                                                            f" MB = {c['rss_vs_model']:.2f}×"),
           row("incremental `index` (1 file) / bare jieba+model",
               lambda c: f"{c['incremental']['cli_s']:.2f} s / {c['cold']['bare_jieba_model']['p50']:.2f} s = "
                         f"**{c['incremental']['vs_bare']:.2f}×** (in build: {c['incremental']['timings']['total']:.2f} s,"
                         f" {c['incremental']['embedded']} embedded)"),
           row("incremental `index` (1 file), `serve` running, p50 / p95",
               lambda c: f"{c['incremental']['served']['p50']:.2f} s / {c['incremental']['served']['p95']:.2f} s"),
           row("cold bare jieba / jieba+model (p50)",
               lambda c: f"{c['cold']['bare_jieba']['p50']:.2f} s / {c['cold']['bare_jieba_model']['p50']:.2f} s")]
    out.append(row("load average during the cold processes", lambda c: load_range(c["cold"].get("load"))))
    for mode, floor in (("keyword", "keyword_vs_bare"), ("semantic", "semantic_vs_bare"), ("hybrid", "hybrid_vs_bare")):
        out.append(row(f"cold `search --mode {mode}` p50 / p95",
                       lambda c, m=mode, f=floor: f"{c['cold']['modes'][m]['p50']:.2f} s / "
                                                  f"{c['cold']['modes'][m]['p95']:.2f} s (**{c['cold'][f]:.2f}×** floor)"))
    for mode, floor in (("keyword", "bare_jieba"), ("semantic", "bare_jieba_model"), ("hybrid", "bare_jieba_model")):
        out.append(row(f"served `search --mode {mode}` p50 / p95 (a `serve` running)",
                       lambda c, m=mode, f=floor: f"{c['served']['modes'][m]['p50']:.2f} s / "
                                                  f"{c['served']['modes'][m]['p95']:.2f} s "
                                                  f"(**{c['served']['modes'][m]['p50'] / c['cold'][f]['p50']:.2f}×**"
                                                  " floor)"))
    for mode in ("keyword", "semantic", "hybrid", "encode"):
        label = "warm query encoding alone" if mode == "encode" else f"warm {mode}"
        out.append(row(f"{label} p50 / p95", lambda c, m=mode: f"{c['warm'][m]['p50']:.1f} / {c['warm'][m]['p95']:.1f} ms"))
    return out


def table(results: dict) -> str:
    """The results as Markdown tables, each preceded by the load average during its measurements."""
    loads = [c.get("load") for c in results["corpora"].values()]
    out = [(f"Whole run: load average {results['load_before'][0]:.1f} at the start, {results['load_after'][0]:.1f} at "
           f"the end; {results['cores']} cores."), "", f"Corpora ({load_text(*loads)}):", "",
           *corpora_table(results["corpora"])]
    if "first_use" in results:
        first = results["first_use"]
        out += ["", f"First use ({load_text(first['cold_load'], first['first_load'])}):", "", *first_use_table(first)]
    if "busy" in results:
        out += ["", f"Busy machine ({load_text(*busy_loads(results['busy']))}):",
                "", *busy_table(results["busy"], results["busy"]["corpus"])]
    if any("peers" in c for c in results["corpora"].values()):
        peer_loads = [load for c in results["corpora"].values() for p in c.get("peers", {}).values()
                      for load in p.get("loads", [])]
        out += ["", f"Peers ({load_text(*peer_loads)}):", "", *peers_table(results["corpora"])]
    if results.get("growth"):
        out += ["", f"Growth ({load_text(*(g.get('load') for g in results['growth']))}):", "",
                *growth_table(results["growth"], results.get("growth_ratios", {}))]
    if results.get("targets"):
        target_loads = [*loads, *(g.get("load") for g in results.get("growth", []))]
        if "busy" in results:
            target_loads += busy_loads(results["busy"])
        out += ["", f"Targets, d2l-zh ({load_text(*target_loads)}):", "",
                "| target | measured | met | issue |", "|---|---|---|---|"]
        out += [f"| {t['text']} | {'—' if t['value'] is None else format(t['value'], '.2f')} | "
                f"{'not measured' if t['met'] is None else 'yes' if t['met'] else '**no**'} | {t['issue']} |"
                for t in results["targets"]]
    return "\n".join(out)
