"""Many clients at once against `serve`: is every request answered, does any client fall back, how long?

    .venv/bin/python bench/serve_load.py [--clients 50] [--seconds 20] [--mode hybrid] [--index DIR]
                                         [--idle 0] [--json]

Starts `cli.py serve` on an index of the bundled notes (built in a temporary
folder unless --index is given), then runs `--clients` threads for `--seconds`,
each asking one search after another through search.serve.client (connect, then
search over HTTP), the client `notesearch search` uses, with its real timeouts
(0.2 s to connect, 1 s for the ping). A request that finds no server is a
fallback: the CLI would have searched in process.
`--idle N` also holds N connections open without sending anything, for the
whole run. Prints requests, answered, fallbacks, errors and latency
percentiles (ms), and exits 1 unless every request was answered.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from search.serve.client import HOST, Answer, connect, read_state

QUERIES = ["自监督 视觉", "masked autoencoders", "year:2014 author:goodfellow", "扩散模型 采样效率",
           "transformer -bert", "self-supervised vision", "注意力机制", "生成对抗网络", "reinforcement learning",
           "长短期记忆"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def start_server(index: str) -> subprocess.Popen:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    server = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "serve", "--index", index], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    banner = server.stdout.readline()
    if not banner.startswith("serving"):
        server.kill()
        raise SystemExit(f"serve did not start: {banner}{server.stderr.read()}")
    return server


def load(index: str, clients: int, seconds: float, mode: str) -> dict:
    """Each client thread asks searches back to back until the time is up."""
    latencies: list[float] = []
    fallbacks = errors = 0
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    deadline = 0.0

    def client(n: int) -> None:
        nonlocal fallbacks, errors
        start.wait()
        i = n
        while time.monotonic() < deadline:
            query = QUERIES[i % len(QUERIES)]
            i += 1
            began = time.perf_counter()
            served = connect(index)
            try:
                answered = served and served.search(query, mode, 10, False, False, str(ROOT))
            except OSError:
                answered = None
            finally:
                if served is not None:
                    served.close()
            took = (time.perf_counter() - began) * 1000
            with lock:
                if answered is None:
                    fallbacks += 1
                elif isinstance(answered, Answer):
                    errors += 1
                else:
                    latencies.append(took)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + seconds
    start.wait()
    for thread in threads:
        thread.join(seconds + 30)
    requests = len(latencies) + fallbacks + errors
    return {"clients": clients, "seconds": seconds, "mode": mode, "requests": requests, "answered": len(latencies),
            "fallbacks": fallbacks, "errors": errors, "per_second": round(len(latencies) / seconds, 1),
            "p50_ms": round(percentile(latencies, 0.50), 1), "p95_ms": round(percentile(latencies, 0.95), 1),
            "p99_ms": round(percentile(latencies, 0.99), 1), "max_ms": round(max(latencies, default=0.0), 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--mode", default="hybrid", choices=("hybrid", "keyword", "semantic"))
    ap.add_argument("--index", help="an existing index (default: the bundled notes, indexed into a temp folder)")
    ap.add_argument("--idle", type=int, default=0, help="connections held open without a request")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        index = args.index
        if index is None:
            index = os.path.join(temp, "index")
            subprocess.run([sys.executable, str(ROOT / "cli.py"), "index", str(ROOT / "corpus" / "notes"),
                            "--index", index, "--quiet"], cwd=ROOT, check=True, capture_output=True)
        server = start_server(index)
        idle = []
        try:
            port = read_state(index)["port"]
            idle = [socket.create_connection((HOST, port)) for _ in range(args.idle)]
            figures = load(index, args.clients, args.seconds, args.mode)
            figures["idle_connections"] = args.idle
        finally:
            for sock in idle:
                sock.close()
            server.terminate()
            server.wait(30)
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:<17}{value}")
    return 0 if figures["answered"] == figures["requests"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
