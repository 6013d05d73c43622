"""A real local model through cab: tokens/s and time to first token direct vs through the recording
proxy, and the model image's build time, cold and cached, in one run.

Run from the repo root (the image is built first when missing; that build is not counted)::

    CAB_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt .venv/bin/python bench/real_model.py \\
        [--iterations 8] [--max-tokens 64] [--skip-cold-build] [--json out.json]

The server is ``images/model-gemma3-270m`` (llama.cpp's llama-server, Gemma 3 270M Q4_K_M) started by
``LocalModels`` as ``endpoint: local`` starts it, with one slot, so no two requests share the server. One
``ModelProxy`` (in this process, as a host runs it) opens one cell towards it. Each iteration sends the same
streamed chat request (fixed prompt of about 400 tokens, temperature 0, ``max_tokens``, usage asked for,
``cache_prompt: false`` so the server evaluates the whole prompt every time) once directly and once through
the proxy, the order alternating between iterations; ``--warmup`` iterations come first and are not counted.

Per request, on the client: time to the first SSE event, TTFT (first content delta), total time, the
server's usage, client tokens/s = completion tokens / (total - TTFT), and the server's own
``timings`` (``predicted_per_second``, ``prompt_ms``) from the stream. For the proxied requests the proxy's
records (``ModelCall``: ttft_ms, tokens, source) are set beside the client's view.

Build time: **cold** is ``docker build --no-cache`` of the image into a throwaway tag (every step runs and
the ~240 MB of weights and the Debian packages are downloaded again; the OS base ``debian:forky-slim`` is
not rebuilt: creating it, when absent, is reported apart), then the throwaway tag and its intermediate
images are removed; **cached** is ``ImageBuilder.ensure`` when the tag exists, what every later cell pays.
bench/README.md explains every number. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for _p in (str(REPO), str(REPO / "bench")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import httpx  # noqa: E402
from _services import pct  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from cab_core.logging import configure  # noqa: E402
from cab_core.settings import Settings  # noqa: E402
from cab_workers.composition import host_image_builder  # noqa: E402
from cab_workers.host.build_context import EXTRA_CONTEXT, context_tar  # noqa: E402
from cab_workers.host.images import ImageBuilder, ensure_os_base  # noqa: E402
from cab_workers.host.local_models import LocalModels, LocalModelServer, image_name  # noqa: E402
from cab_workers.host.sandbox import Sandbox  # noqa: E402
from cab_workers.proxy import ModelProxy, Upstream  # noqa: E402

MODEL = "gemma3-270m"
IMAGE = image_name(MODEL)
THROWAWAY = f"cab-bench/{IMAGE}:cold"
NOTES = " ".join(
    f"Note {i}: the {part} of a benchmark run must be recorded with its machine, its load, the exact"
    f" image digests and the order in which the {part} was measured, so that a later reader can repeat it."
    for i, part in enumerate(
        ["set-up", "warm-up", "first request", "prompt", "stream", "usage", "timing", "teardown", "report"]
    )
)
PROMPT = (
    "Summarise the following notes as a numbered list of at least twenty detailed points, then explain "
    f"each point again in full sentences.\n\n{NOTES}"
)
console = Console(width=None if sys.stdout.isatty() else 120)


def note(text: str) -> None:
    """A progress line, dim, cut to one line; build output is printed as it is (no markup)."""
    console.print(text, style="dim", markup=False, highlight=False, no_wrap=True, overflow="ellipsis")


def request_body(model: str, max_tokens: int, cache_prompt: bool) -> dict[str, Any]:
    return {
        "model": model,
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
        "cache_prompt": cache_prompt,
    }


def stream_once(url: str, token: str | None, body: dict[str, Any]) -> dict[str, Any]:
    """One streamed chat call on a connection of its own (llama-server closes a keep-alive connection
    idle for 5 s, shorter than one call here), timed on the client: first event, first content delta,
    end of stream."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    first = ttft = None
    usage: dict[str, Any] = {}
    timings: dict[str, Any] = {}
    text: list[str] = []
    t0 = time.perf_counter()
    with (
        httpx.Client(timeout=600, trust_env=False) as client,
        client.stream("POST", f"{url}/chat/completions", json=body, headers=headers) as resp,
    ):
        if resp.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {resp.status_code}: {resp.read()[:300]!r}")
        for line in resp.iter_lines():
            now = time.perf_counter() - t0
            first = now if first is None else first
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            event = json.loads(line[6:])
            for choice in event.get("choices") or []:
                if content := (choice.get("delta") or {}).get("content"):
                    ttft = now if ttft is None else ttft
                    text.append(content)
            usage = event.get("usage") or usage
            timings = event.get("timings") or timings
    total = time.perf_counter() - t0
    tokens = usage.get("completion_tokens")
    gen_s = total - ttft if ttft is not None else None
    return {
        "first_event_ms": (first or 0.0) * 1000,
        "ttft_ms": ttft * 1000 if ttft is not None else None,
        "total_ms": total * 1000,
        "prompt_tokens": usage.get("prompt_tokens"),
        "completion_tokens": tokens,
        "client_tps": tokens / gen_s if tokens and gen_s else None,
        "server_tps": timings.get("predicted_per_second"),
        "server_prompt_ms": timings.get("prompt_ms"),
        "answer_sha": hashlib.sha256("".join(text).encode()).hexdigest()[:12],
    }


def measure(server: LocalModelServer, args: argparse.Namespace) -> dict[str, Any]:
    """The interleaved series: every iteration one direct and one proxied call, order alternating."""
    served = httpx.get(f"{server.base_url}/models", timeout=30, trust_env=False).json()["data"][0]["id"]
    body = request_body(served, args.max_tokens, args.cache_prompt)
    samples: list[dict[str, Any]] = []
    with ModelProxy() as proxy:
        grant = proxy.open_cell("bench/real-model/1", Upstream(server.base_url))
        urls = {"direct": (server.base_url, None), "proxied": (grant.base_url(), grant.token)}
        for i in range(args.warmup + args.iterations):
            order = ["direct", "proxied"] if i % 2 == 0 else ["proxied", "direct"]
            for mode in order:
                row = {"iteration": i - args.warmup, "mode": mode, **stream_once(*urls[mode], body)}
                samples.append(row)
                note(f"{mode:>8} #{row['iteration']}: {_brief(row)}")
        calls = proxy.close_cell(grant.token)
    proxied = [s for s in samples if s["mode"] == "proxied"]
    answered = [c for c in calls if c.http_status == 200 and c.error is None]  # a retried try: own record
    if len(answered) == len(proxied):
        for sample, call in zip(proxied, answered, strict=True):
            sample.update(
                proxy_ttft_ms=call.ttft_ms,
                proxy_latency_ms=call.latency_ms,
                proxy_prompt_tokens=call.prompt_tokens,
                proxy_completion_tokens=call.completion_tokens,
                proxy_source=call.source.value,
                proxy_estimated=call.estimated,
            )
    counted = [s for s in samples if s["iteration"] >= 0]
    tries = [c.model_dump(mode="json", include=CALL_FIELDS) for c in calls]
    return {"model": served, "samples": samples, "proxy_tries": tries, "counted": counted}


CALL_FIELDS = {
    "seq",
    "http_status",
    "error",
    "upstream_attempt",
    "ttft_ms",
    "latency_ms",
    "completion_tokens",
}


def _brief(row: dict[str, Any]) -> str:
    return (
        f"ttft {_f(row['ttft_ms'])} ms, total {row['total_ms']:.0f} ms, "
        f"{row['completion_tokens']} tokens, client {_f(row['client_tps'], 1)} tok/s, "
        f"server {_f(row['server_tps'], 1)} tok/s"
    )


def _f(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


METRICS = [
    ("ttft_ms", "TTFT, first content delta (ms)", 0),
    ("first_event_ms", "first SSE event (ms)", 0),
    ("total_ms", "total time (ms)", 0),
    ("client_tps", "tokens/s, client (tokens / (total - TTFT))", 1),
    ("server_tps", "tokens/s, server (timings.predicted_per_second)", 1),
    ("server_prompt_ms", "server prompt eval (timings.prompt_ms)", 0),
]


def summarise(counted: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    out: dict[str, dict[str, float | None]] = {}
    for key, _, _ in METRICS:
        row: dict[str, float | None] = {}
        for mode in ("direct", "proxied"):
            values = [s[key] for s in counted if s["mode"] == mode and s.get(key) is not None]
            row[f"{mode}_p50"] = pct(values, 50) if values else None
            row[f"{mode}_p90"] = pct(values, 90) if values else None
        d, p = row["direct_p50"], row["proxied_p50"]
        row["ratio_p50"] = p / d if d and p is not None else None
        out[key] = row
    return out


def print_summary(summary: dict[str, dict[str, float | None]], n: int) -> None:
    table = Table(title=f"direct vs through cab's proxy ({n} iterations, interleaved)")
    for col in ("metric", "direct p50", "proxied p50", "ratio proxied/direct", "direct p90", "proxied p90"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for key, label, digits in METRICS:
        r = summary[key]
        table.add_row(
            label,
            _f(r["direct_p50"], digits),
            _f(r["proxied_p50"], digits),
            _f(r["ratio_p50"], 3),
            _f(r["direct_p90"], digits),
            _f(r["proxied_p90"], digits),
        )
    console.print(table)


def proxy_agreement(counted: list[dict[str, Any]]) -> dict[str, Any]:
    """What the proxy recorded for the proxied calls beside what the client saw of them."""
    rows = [s for s in counted if s["mode"] == "proxied" and "proxy_source" in s]
    if not rows:
        return {"paired": 0}
    return {
        "paired": len(rows),
        "tokens_agree": sum(
            (s["proxy_prompt_tokens"], s["proxy_completion_tokens"])
            == (s["prompt_tokens"], s["completion_tokens"])
            for s in rows
        ),
        "sources": sorted({s["proxy_source"] for s in rows}),
        "estimated": sum(bool(s["proxy_estimated"]) for s in rows),
        "proxy_ttft_p50_ms": pct([s["proxy_ttft_ms"] for s in rows if s["proxy_ttft_ms"] is not None], 50),
        "client_first_event_p50_ms": pct([s["first_event_ms"] for s in rows], 50),
        "client_ttft_p50_ms": pct([s["ttft_ms"] for s in rows if s["ttft_ms"] is not None], 50),
        "proxy_latency_p50_ms": pct([s["proxy_latency_ms"] for s in rows if s["proxy_latency_ms"]], 50),
        "client_total_p50_ms": pct([s["total_ms"] for s in rows], 50),
    }


def timed(fn: Callable[..., Any], *args: Any, **kw: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t0


_STEP_IMAGE = re.compile(r"---> ([0-9a-f]{12})$")


def cold_build(builder: ImageBuilder) -> dict[str, Any]:
    """``--no-cache`` build of the model image into :data:`THROWAWAY`, then that tag and the intermediate
    images of this build (the weights stage's, which the classic builder leaves dangling) are removed."""
    sandbox = builder.sandbox
    os_base = builder.os_base(IMAGE) or ""
    out: dict[str, Any] = {"os_base": os_base, "os_base_present": bool(sandbox.image_id(os_base))}
    if not out["os_base_present"]:  # needed by the build anyway; timed apart, not part of "cold"
        out["os_base_created_s"] = timed(ensure_os_base, sandbox, os_base, console.print)[1]
    extras = [(entry, builder.root(IMAGE, entry.root)) for entry in EXTRA_CONTEXT.get(IMAGE, ())]
    context = context_tar(
        IMAGE, builder.folder(IMAGE), extras, ca_bundle=builder.ca_bundle, wheelhouse=builder.wheelhouse
    )
    lines: list[str] = []

    def progress(line: str) -> None:
        lines.append(line)
        if ": Step " in line:
            note(line)

    try:
        out["cold_s"] = timed(
            builder.run_build, IMAGE, THROWAWAY, context, {}, {"cab.bench": "1"}, progress, nocache=True
        )[1]
        out["size_mb"] = float(sandbox.client.images.get(THROWAWAY).attrs["Size"]) / 1e6
    finally:
        if sandbox.image_id(THROWAWAY):
            sandbox.client.images.remove(THROWAWAY, force=True)
        out["intermediates_removed"] = _remove_dangling(sandbox, lines)
    out["steps"] = sum(": Step " in line for line in lines)
    out["steps_from_cache"] = sum("Using cache" in line for line in lines)
    return out


def _remove_dangling(sandbox: Sandbox, lines: list[str]) -> int:
    """Remove the step images this build printed that no tag or other image holds any more."""
    removed = 0
    for short in {m.group(1) for line in lines if (m := _STEP_IMAGE.search(line))}:
        if sandbox.image_id(short) is None:
            continue
        image = sandbox.client.images.get(short)
        if image.tags:
            continue
        try:
            sandbox.client.images.remove(short, noprune=False)
            removed += 1
        except Exception:  # noqa: BLE001 - still a parent of something (kept), or gone meanwhile
            pass
    return removed


def build_times(builder: ImageBuilder, skip_cold: bool) -> dict[str, Any]:
    tag = builder.ensure([IMAGE])[-1].tag  # present: the server was started from it
    cached = [timed(builder.ensure, [IMAGE])[1] * 1000 for _ in range(5)]
    out: dict[str, Any] = {"tag": tag, "cached_ms": statistics.median(cached), "cached_runs_ms": cached}
    if not skip_cold:
        out.update(cold_build(builder))
    return out


def machine(builder: ImageBuilder) -> dict[str, Any]:
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
         if ln.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "docker": builder.sandbox.client.version().get("Version"),
        "loadavg_start": os.getloadavg(),
    }


@contextmanager
def local_server(builder: ImageBuilder) -> Iterator[tuple[LocalModelServer, dict[str, Any]]]:
    """The model server, one slot, started as ``endpoint: local`` starts it (the image built first)."""
    present = bool(builder.ref(IMAGE).built)
    builder.ensure([IMAGE], progress=note)
    with LocalModels(builder, slots=1) as models:
        server, start_s = timed(models.acquire, MODEL)
        props = httpx.get(f"{server.base_url.removesuffix('/v1')}/props", timeout=30, trust_env=False).json()
        info = {
            "build_id": server.build_id,
            "image": server.image,
            "image_present_before": present,
            "start_s": start_s,
            "total_slots": props.get("total_slots"),
            "n_ctx": (props.get("default_generation_settings") or {}).get("n_ctx"),
        }
        try:
            yield server, info
        finally:
            models.release(MODEL)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--iterations", type=int, default=8, help="measured iterations (each: direct + proxied)"
    )
    parser.add_argument("--warmup", type=int, default=1, help="iterations first, not counted")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument(
        "--cache-prompt", action="store_true", help="let the server reuse the prompt's KV cache"
    )
    parser.add_argument("--skip-cold-build", action="store_true", help="skip the --no-cache build (~255 MB)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    settings = Settings()
    configure(Path(tempfile.mkdtemp(prefix="cab-bench-real-model-")) / "cab.log")
    builder = host_image_builder(settings, Sandbox())
    results: dict[str, Any] = {"machine": machine(builder), "settings": vars(args) | {"json": str(args.json)}}
    t0 = time.perf_counter()
    with local_server(builder) as (server, info):
        results["server"] = info
        console.print(f"server build id: [bold]{server.build_id}[/bold] ({server.image}, {server.base_url})")
        console.print(
            f"started in {info['start_s']:.1f} s, {info['total_slots']} slot, n_ctx {info['n_ctx']}"
        )
        series = measure(server, args)
    counted = series.pop("counted")
    results.update(series, summary=summarise(counted), proxy_record=proxy_agreement(counted))
    results["machine"]["loadavg_after_calls"] = os.getloadavg()
    report_calls(results, counted, args)
    save(results, args.json)  # now too: the build part can fail on a host without a mirror
    results["build"] = build_times(builder, args.skip_cold_build)
    results["machine"]["loadavg_end"] = os.getloadavg()
    report_build(results["build"])
    console.print(f"(bench wall time {time.perf_counter() - t0:.0f} s; load {os.getloadavg()[0]:.2f})")
    save(results, args.json)


def save(results: dict[str, Any], path: Path | None) -> None:
    if path is not None:
        path.write_text(json.dumps(results, indent=2))


def report_calls(results: dict[str, Any], counted: list[dict[str, Any]], args: argparse.Namespace) -> None:
    m, server = results["machine"], results["server"]
    console.print(f"\nmachine: {m['cpus']} CPUs ({m['cpu']}), load {m['loadavg_start'][0]:.2f} at start, "
                  f"{m['loadavg_after_calls'][0]:.2f} after the calls; docker {m['docker']}")  # fmt: skip
    console.print(f"server: {server['build_id']}")
    print_summary(results["summary"], args.iterations)
    same = {s["answer_sha"] for s in counted}
    console.print(f"answers: {len(same)} distinct over {len(counted)} calls (temperature 0)")
    rec, tries = results["proxy_record"], results["proxy_tries"]
    failed = sum(t["error"] is not None or t["http_status"] != 200 for t in tries)
    console.print(f"proxy: {len(tries)} tries recorded, {failed} of them failed (and retried)")
    if rec["paired"]:
        console.print(
            f"proxy's records of the {rec['paired']} proxied calls: tokens equal to the server's usage in "
            f"{rec['tokens_agree']}/{rec['paired']}, source {', '.join(rec['sources'])}, {rec['estimated']} "
            f"estimated; proxy ttft p50 {rec['proxy_ttft_p50_ms']:.0f} ms (client: first event "
            f"{rec['client_first_event_p50_ms']:.0f}, first content {rec['client_ttft_p50_ms']:.0f}); "
            f"proxy latency p50 {rec['proxy_latency_p50_ms']:.0f} ms "
            f"(client total {rec['client_total_p50_ms']:.0f})"
        )
    else:
        console.print(
            f"[red]proxy recorded {len(results['proxy_tries'])} tries: not paired with the client's[/red]"
        )


def report_build(b: dict[str, Any]) -> None:
    console.print(f"\nimage {b['tag']}: cached ensure {b['cached_ms']:.0f} ms (median of 5)")
    if "cold_s" in b:
        base = "present (not rebuilt, not counted)" if b["os_base_present"] else (
            f"absent: created first in {b['os_base_created_s']:.1f} s (not counted)")  # fmt: skip
        console.print(
            f"cold build (--no-cache, {b['steps']} steps, {b['steps_from_cache']} from cache): "
            f"{b['cold_s']:.1f} s, {b['size_mb']:.0f} MB; OS base {b['os_base']}: {base}"
        )
        console.print(
            "[dim]creating the OS base from a Debian rootfs (when it cannot be pulled) is not in it[/dim]"
        )
    else:
        console.print("cold build: skipped (--skip-cold-build)")


if __name__ == "__main__":
    main()
