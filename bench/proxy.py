"""What the recording proxy adds to a model call: direct vs through ``ModelProxy``, on loopback.

Run from the repo root::

    .venv/bin/python bench/proxy.py [--requests 400] [--levels 1,50,200] [--json out.json]

The scripted endpoint (``scripted/noop``, keyed) and the proxy each run in their own process (so the
load generator, the proxy and the endpoint do not share one GIL); the load generator is one asyncio
``httpx.AsyncClient`` in this process. For every concurrency level, ``--requests`` non-streamed and
``--requests`` streamed chat completions are sent direct and through the proxy (interleaved: direct,
proxy, direct, proxy per level). Each client of a level has its own proxy cell. Reported per mode:
latency p50/p99 per call, TTFT (first body byte) p50/p99 for streams, requests/s, and the ratio
proxy/direct. It is a report: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import statistics
import sys
import time
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parent.parent
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

import httpx  # noqa: E402

KEY = "sk-bench-real-key"
TASKS = _REPO / "tests" / "cab_workers" / "endpoint" / "fixtures" / "tasks"


def _endpoint(out: Any, stop: Any) -> None:
    from cab_workers.endpoint import ScriptedEndpoint

    with ScriptedEndpoint(TASKS, api_key=KEY) as ep:
        out.put(ep.url)
        stop.wait()


def _proxy(upstream_url: str, cells: int, out: Any, stop: Any) -> None:
    import logging

    import structlog

    from cab_workers.proxy import ModelProxy, Upstream

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with ModelProxy() as proxy:
        grants = [proxy.open_cell(f"bench/{i}", Upstream(upstream_url, KEY)) for i in range(cells)]
        out.put((proxy.url, [g.token for g in grants]))
        stop.wait()


def _quiet_endpoint(out: Any, stop: Any) -> None:
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    _endpoint(out, stop)


async def _one(client: httpx.AsyncClient, url: str, token: str, stream: bool, i: int) -> tuple[float, float]:
    body = {"model": "scripted/noop", "stream": stream, "messages": [{"role": "user", "content": f"hi {i}"}]}
    headers = {"Authorization": f"Bearer {token}"}
    t0 = time.perf_counter()
    ttft = None
    async with client.stream("POST", f"{url}/chat/completions", json=body, headers=headers) as resp:
        async for _ in resp.aiter_raw():
            ttft = ttft or time.perf_counter() - t0
        if resp.status_code != 200:
            raise RuntimeError(f"bench call failed: {resp.status_code}")
    return (time.perf_counter() - t0) * 1000, (ttft or 0) * 1000


async def _level(url: str, tokens: list[str], clients: int, total: int, stream: bool) -> dict[str, float]:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    lat: list[float] = []
    ttft: list[float] = []
    next_i = iter(range(total))

    async def worker(w: int, client: httpx.AsyncClient) -> None:
        for i in next_i:
            a, b = await _one(client, url, tokens[w % len(tokens)], stream, i)
            lat.append(a)
            ttft.append(b)

    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        await _one(client, url, tokens[0], stream, -1)  # warm the connection pool
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(w, client) for w in range(clients)))
        wall = time.perf_counter() - t0
    q = statistics.quantiles(lat, n=100)
    out = {"p50_ms": q[49], "p99_ms": q[98], "rps": total / wall}
    if stream:
        tq = statistics.quantiles(ttft, n=100)
        out |= {"ttft_p50_ms": tq[49], "ttft_p99_ms": tq[98]}
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=400, help="calls per level, mode and path")
    parser.add_argument("--levels", default="1,50,200", help="concurrent clients, comma separated")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",")]
    ctx = mp.get_context("spawn")
    stop, q = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_quiet_endpoint, args=(q, stop), daemon=True)]
    procs[0].start()
    upstream = q.get(timeout=30)
    procs.append(ctx.Process(target=_proxy, args=(upstream, max(levels), q, stop), daemon=True))
    procs[1].start()
    proxy_url, tokens = q.get(timeout=30)
    results: list[dict[str, Any]] = []
    try:
        for clients in levels:
            total = max(args.requests, clients)
            for stream in (False, True):
                direct = asyncio.run(_level(upstream, [KEY], clients, total, stream))
                via = asyncio.run(_level(proxy_url, tokens, clients, total, stream))
                results.append({"clients": clients, "stream": stream, "direct": direct, "proxy": via})
                _print(results[-1])
    finally:
        stop.set()
        for p in procs:
            p.join(10)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def _print(row: dict[str, Any]) -> None:
    d, p = row["direct"], row["proxy"]
    mode = "stream" if row["stream"] else "plain "
    line = (
        f"clients={row['clients']:>3} {mode} | p50 {d['p50_ms']:7.2f} -> {p['p50_ms']:7.2f} ms "
        f"(+{p['p50_ms'] - d['p50_ms']:.2f}, x{p['p50_ms'] / d['p50_ms']:.2f}) | "
        f"p99 {d['p99_ms']:7.2f} -> {p['p99_ms']:7.2f} ms (x{p['p99_ms'] / d['p99_ms']:.2f}) | "
        f"rps {d['rps']:7.1f} -> {p['rps']:7.1f} (x{p['rps'] / d['rps']:.2f})"
    )
    if row["stream"]:
        line += f" | ttft p50 {d['ttft_p50_ms']:.2f} -> {p['ttft_p50_ms']:.2f} ms"
        line += f" p99 {d['ttft_p99_ms']:.2f} -> {p['ttft_p99_ms']:.2f} ms"
    print(line, flush=True)


if __name__ == "__main__":
    main()
