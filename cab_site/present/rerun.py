"""How to reproduce a cell: the exact image, the agent's recorded command and environment names
(placeholders only, never values), and a one-cell sweep for ``cab run``."""

from __future__ import annotations

import json
import shlex

from cab_core.schema import CellResult
from cab_site.present.redact import redact


def image_ref(image: str, digest: str | None) -> str:
    """``image@sha256:…`` pinned to the digest when known (one ``sha256:`` prefix, never two)."""
    if not digest:
        return image
    digest = digest if digest.startswith("sha256:") else f"sha256:{digest}"
    return f"{image.split('@', 1)[0]}@{digest}"


def _recorded_argv(result: CellResult) -> list[str] | None:
    for s in result.spans:
        argv = s.attrs.get("argv") or s.attrs.get("command")
        if s.kind == "container" and isinstance(argv, list) and all(isinstance(a, str) for a in argv):
            masked: list[str] = redact(argv)
            return masked
    return None


def _recorded_env_keys(result: CellResult) -> list[str]:
    for s in result.spans:
        keys = s.attrs.get("env_keys")
        if s.kind == "tool_call" and isinstance(keys, list):
            return [k for k in keys if isinstance(k, str)]
    return []


def _env_placeholder(name: str, model: str) -> str:
    upper = name.upper()
    if "KEY" in upper or "TOKEN" in upper:
        return '"$YOUR_KEY"'
    if "URL" in upper or "ENDPOINT" in upper:
        return '"$YOUR_ENDPOINT"'
    if "MODEL" in upper:
        return shlex.quote(model)
    return f'"${name}"'


def _endpoint_lines(result: CellResult) -> list[str]:
    """The one-cell sweep's endpoint (the kind the ``endpoint`` span recorded) and the sampling cab
    set on every call, if it set any: the same cell, not a similar one."""
    model = result.identity.model
    kind = next((s.name for s in result.spans if s.kind == "endpoint"), None)
    if kind == "local" or (kind is None and "server llama.cpp" in result.identity.model_build_id):
        lines = [f"endpoint: local:{model}"]
    elif kind == "scripted" or (kind is None and model.startswith("scripted/")):
        lines = ["endpoint: scripted"]
    else:
        lines = ['endpoint: "$YOUR_ENDPOINT"', "api_key_env: YOUR_KEY"]
    forced = {json.dumps(c.sampling_forced, sort_keys=True) for c in result.model_calls}
    if len(forced) == 1 and (only := json.loads(forced.pop())):
        lines.append(f"sampling: {json.dumps(only, sort_keys=True)}")
    return lines


def run_it_yourself(result: CellResult) -> str:
    """Shell lines reproducing the cell: the exact image, then the cab command; placeholders only."""
    ident = result.identity
    image = ident.container_image.split("@", 1)[0]
    argv = _recorded_argv(result)
    lines = [
        "# the exact image: its tag is content-addressed, so building it from the same cab commit",
        "# reproduces it; the image id below is what this run used",
        f"cab images build {shlex.quote(ident.tui)}",
        f"docker image inspect --format '{{{{.Id}}}}' {shlex.quote(image)}"
        + (f"   # expect {ident.image_digest}" if ident.image_digest else "   # image id not recorded"),
        "",
        "# the agent's own command and environment names, as recorded"
        if argv
        else "# agent command not recorded",
        "docker run --rm -it \\",
        '  -v "$PWD/work:/work" -v "$PWD/cab:/cab:ro" -w /work \\',
        *(f"  -e {k}={_env_placeholder(k, ident.model)} \\" for k in _recorded_env_keys(result)),
        f"  {shlex.quote(image)} \\",
        f"  {shlex.join(argv) if argv else 'bash'}",
        "",
        "# or let cab run and score this one cell",
        "cat > one-cell.yaml <<YAML",
        f"sweep_id: rerun-{ident.sweep_id}",
        *(
            f"{k}: [{json.dumps(v)}]"
            for k, v in (("tuis", ident.tui), ("models", ident.model), ("tasks", ident.task_id))
        ),
        *_endpoint_lines(result),
        "YAML",
        "cab run one-cell.yaml",
    ]
    if result.recording_path:
        cast = result.recording_path
        cast = cast if cast.startswith("/") else f"${{CAB_HOME:-$HOME/.cab}}/{cast}"
        lines += ["", "# the agent's terminal, as recorded (asciicast v2)", f'asciinema play "{cast}"']
    return "\n".join(lines)
