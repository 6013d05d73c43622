"""What the recording proxy adds to a model call: direct vs through ``ModelProxy``, on loopback.

Run from the repo root::

    .venv/bin/python bench/proxy.py [--seconds 5] [--levels 1,50,200] [--rounds 3] [--json out.json]

Three processes: the scripted endpoint (keyed), the proxy (one cell per client, forwarding with the
key), and the load generator (this process: aiohttp on uvloop). Every measurement is taken in both
modes in one run, direct to the endpoint and through the proxy, and printed side by side. Latency and
stream measurements alternate the modes over ``--rounds`` runs each and pool the samples per mode, so
a burst of other load on the machine lands in both columns:

* **call latency**: non-streamed ``scripted/noop`` calls, one client, p50 / p99;
* **streams**: ``scripted/drip-500`` streams (the endpoint sends its 8 chunks on a fixed 500 ms schedule, so a
  stream lasts about 4 s, like a short real generation) at each level of concurrent clients: total latency
  and time to first token (first body byte), p50 / p99;
* **throughput**: non-streamed calls from each level of closed-loop clients, requests per second. The
  load comes from ``wrk`` when it is installed (``apt-get install wrk``): a Python load generator
  would take as much of this machine's two cores as the proxy it measures. Without wrk the aiohttp
  clients are used and the line says so.

"Added" is proxy minus direct of the same percentile. The targets (added p50 < 1 ms, added p99 <
5 ms at 200 concurrent streams, >= 2,000 requests/s through the proxy) are printed with the verdict;
nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing as mp
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402
import uvloop  # noqa: E402

KEY = "sk-bench-real-key"
TASKS = REPO / "tests" / "cab_endpoint" / "fixtures" / "tasks"


STREAM_MODEL = "scripted/drip-500"
STREAM_S = 4.0
"""How long one of its streams lasts; clients start spread over that much time."""


def _quiet() -> None:
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))


def _settle_heap() -> None:
    """Move this process's start-up heap out of the collector's reach (endpoint and load generator).

    Without it the endpoint's and the load generator's full collections (40-60 ms each, measured with
    a ``gc.callbacks`` probe) stall every stream in flight at that moment, in whichever mode is being
    measured, and decide the p99 column."""
    gc.collect()
    gc.freeze()


def _endpoint(out: Any, stop: Any) -> None:
    _quiet()
    from cab_endpoint import ScriptedEndpoint

    with ScriptedEndpoint(TASKS, api_key=KEY) as ep:
        _settle_heap()
        out.put(ep.url)
        stop.wait()


def _proxy(upstream_url: str, cells: int, out: Any, stop: Any) -> None:
    _quiet()
    from cab_workers.proxy import ModelProxy, Upstream

    with ModelProxy() as proxy:
        grants = [proxy.open_cell(f"bench/{i}", Upstream(upstream_url, KEY)) for i in range(cells)]
        out.put((proxy.url, [g.token for g in grants]))
        stop.wait()


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


@dataclass
class Samples:
    """Raw per-call figures of one or more runs of one mode, pooled before percentiles are taken."""

    lat: list[float]
    ttft: list[float]
    wall: float

    def __add__(self, other: Samples) -> Samples:
        return Samples(self.lat + other.lat, self.ttft + other.ttft, self.wall + other.wall)

    def summary(self) -> dict[str, float]:
        return {
            "calls": len(self.lat),
            "p50_ms": pct(self.lat, 50),
            "p99_ms": pct(self.lat, 99),
            "ttft_p50_ms": pct(self.ttft, 50),
            "ttft_p99_ms": pct(self.ttft, 99),
            "rps": len(self.lat) / self.wall,
        }


async def _one(session: aiohttp.ClientSession, url: str, token: str, model: str, stream: bool, i: int):
    body: dict[str, Any] = {
        "model": model,
        "stream": stream,
        "messages": [{"role": "user", "content": f"hi {i}"}],
    }
    if stream:  # as agents do; else the proxy would add it and the stream would carry one more event
        body["stream_options"] = {"include_usage": True}
    t0 = time.perf_counter()
    ttft = None
    async with session.post(
        f"{url}/chat/completions", json=body, headers={"Authorization": f"Bearer {token}"}
    ) as resp:
        async for _ in resp.content.iter_any():
            ttft = ttft or time.perf_counter() - t0
        if resp.status != 200:
            raise RuntimeError(f"bench call failed: HTTP {resp.status}")
    return (time.perf_counter() - t0) * 1000, (ttft or 0.0) * 1000


async def _run(
    url: str,
    tokens: list[str],
    clients: int,
    model: str,
    stream: bool,
    seconds: float,
    calls: int | None,
    stagger_s: float = 0.0,
) -> Samples:
    """``clients`` closed-loop clients for ``seconds`` (or ``calls`` calls in all); client ``w`` starts
    ``w / clients * stagger_s`` late, so equal-length streams do not all start (and queue) at once.

    Each client makes one unmeasured call when it starts, so its measured calls find warm connections
    in both modes: client -> endpoint directly, client -> proxy -> endpoint through the proxy (the
    proxy drops upstream connections idle for 3 s, so a warm-up done before the stagger would leave
    the late clients' upstream connections closed and every first stream through the proxy would pay
    a TCP connect and the endpoint's accept, which no direct stream pays)."""
    lat: list[float] = []
    ttft: list[float] = []
    counter = iter(range(calls) if calls else range(10**9))
    connector = aiohttp.TCPConnector(limit=clients, force_close=False)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as s:
        deadline = time.perf_counter() + seconds

        async def client(w: int) -> None:
            await asyncio.sleep(w / clients * stagger_s)
            await _one(s, url, tokens[w % len(tokens)], "scripted/noop", False, -1)
            for i in counter:
                if not calls and time.perf_counter() > deadline:
                    return
                a, b = await _one(s, url, tokens[w % len(tokens)], model, stream, i)
                lat.append(a)
                ttft.append(b)

        t0 = time.perf_counter()
        await asyncio.gather(*(client(w) for w in range(clients)))
        wall = time.perf_counter() - t0 - stagger_s / 2
    return Samples(lat, ttft, wall)


def _pair(
    direct_url: str, proxy_url: str, tokens: list[str], rounds: int = 1, **kw: Any
) -> dict[str, dict[str, float]]:
    """``rounds`` runs of each mode, alternating direct and proxy, samples pooled per mode: a burst
    of load on this shared machine then lands in both columns rather than skewing one."""
    direct, via = Samples([], [], 0.0), Samples([], [], 0.0)
    for _ in range(rounds):
        direct += uvloop.run(_run(direct_url, [KEY], **kw))
        via += uvloop.run(_run(proxy_url, tokens, **kw))
    return {"direct": direct.summary(), "proxy": via.summary()}


_WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = '{"model":"scripted/noop","messages":[{"role":"user","content":"hi"}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
"""


def _wrk(url: str, token: str, clients: int, seconds: float) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(_WRK_SCRIPT)
        script.flush()
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{clients}",
                f"-d{max(1, round(seconds))}s",
                "--latency",
                "-s",
                script.name,
                f"{url}/chat/completions",
            ],
            capture_output=True,
            text=True,
            check=True,
            env={"BENCH_TOKEN": token, "PATH": "/usr/bin:/bin"},
        ).stdout
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise RuntimeError(f"wrk saw failed calls:\n{out}")
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def latency(q: str) -> float:
        m = re.search(rf"^\s+{q}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * units[m.group(2)] if m else float("nan")

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return {"rps": float(rps.group(1)) if rps else 0.0, "p50_ms": latency("50"), "p99_ms": latency("99")}


def _throughput(direct_url: str, proxy_url: str, tokens: list[str], clients: int, seconds: float):
    if shutil.which("wrk"):
        return {
            "direct": _wrk(direct_url, KEY, clients, seconds),
            "proxy": _wrk(proxy_url, tokens[0], clients, seconds),
            "load": "wrk",
        }
    row = _pair(
        direct_url,
        proxy_url,
        tokens,
        clients=clients,
        model="scripted/noop",
        stream=False,
        seconds=seconds,
        calls=None,
    )
    return {**row, "load": "aiohttp (install wrk for a load generator that does not compete)"}


def _line(label: str, row: dict[str, dict[str, float]], keys: list[str]) -> str:
    d, p = row["direct"], row["proxy"]
    parts = [f"{label:<34}"]
    for k in keys:
        if k == "rps":
            parts.append(f"rps {d[k]:8.1f} -> {p[k]:8.1f} (x{p[k] / d[k]:.2f})")
        else:
            parts.append(f"{k[:-3]} {d[k]:7.2f} -> {p[k]:7.2f} ms (+{p[k] - d[k]:.2f})")
    return " | ".join(parts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement and mode")
    parser.add_argument("--levels", default="1,50,200", help="concurrent clients, comma separated")
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating direct/proxy runs pooled per latency measurement"
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",")]
    ctx = mp.get_context("spawn")
    stop, q = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_endpoint, args=(q, stop), daemon=True)]
    procs[0].start()
    upstream = q.get(timeout=30)
    procs.append(ctx.Process(target=_proxy, args=(upstream, max(levels), q, stop), daemon=True))
    procs[1].start()
    proxy_url, tokens = q.get(timeout=30)
    _settle_heap()
    results: dict[str, Any] = {"levels": levels, "cpus": mp.cpu_count(), "rounds": args.rounds}
    s = args.seconds
    try:
        print(
            f"proxy benchmark on {mp.cpu_count()} CPUs, {s:g} s per measurement and mode,"
            f" latency and streams pooled over {args.rounds} alternating rounds",
            flush=True,
        )
        row = _pair(
            upstream,
            proxy_url,
            tokens,
            rounds=args.rounds,
            clients=1,
            model="scripted/noop",
            stream=False,
            seconds=s,
            calls=None,
        )
        results["latency_1_client"] = row
        print(_line("call latency, 1 client", row, ["p50_ms", "p99_ms"]), flush=True)
        _pair(  # the first drip stream of each mode pays one-off set-up (tens of ms): not measured
            upstream, proxy_url, tokens, clients=1, model=STREAM_MODEL, stream=True, seconds=0, calls=1
        )
        results["streams"] = {}
        for n in levels:
            row = _pair(
                upstream,
                proxy_url,
                tokens,
                rounds=args.rounds,
                clients=n,
                model=STREAM_MODEL,
                stream=True,
                seconds=max(s, 2 * STREAM_S),
                calls=None,
                stagger_s=STREAM_S,
            )
            results["streams"][n] = row
            print(
                _line(f"drip streams, {n} clients", row, ["p50_ms", "p99_ms", "ttft_p50_ms", "ttft_p99_ms"])
                + f" | streams {row['direct']['calls']}/{row['proxy']['calls']}",
                flush=True,
            )
        results["throughput"] = {}
        for n in levels:
            row = _throughput(upstream, proxy_url, tokens, n, s)
            results["throughput"][n] = row
            print(
                _line(f"throughput, {n} clients ({row['load'].split()[0]})", row, ["rps", "p50_ms"]),
                flush=True,
            )
    finally:
        stop.set()
        for p in procs:
            p.join(10)
    _verdict(results, levels)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def _verdict(results: dict[str, Any], levels: list[int]) -> None:
    lat = results["latency_1_client"]
    added_p50 = lat["proxy"]["p50_ms"] - lat["direct"]["p50_ms"]
    top = results["streams"][max(levels)]
    added_p99 = top["proxy"]["p99_ms"] - top["direct"]["p99_ms"]
    best_rps = max(r["proxy"]["rps"] for r in results["throughput"].values())
    print("\ntargets:")
    for name, value, ok in (
        ("added p50 per call < 1 ms", f"{added_p50:.2f} ms", added_p50 < 1),
        (f"added p99 at {max(levels)} concurrent streams < 5 ms", f"{added_p99:.2f} ms", added_p99 < 5),
        (">= 2,000 requests/s through the proxy", f"{best_rps:.0f}/s", best_rps >= 2000),
    ):
        print(f"  {'met ' if ok else 'MISS'}  {name:<48} {value}")


if __name__ == "__main__":
    sys.exit(main())
