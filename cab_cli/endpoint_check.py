"""The submit-time check of a sweep's remote endpoint, for ``cab run`` and ``cab submit``: before
anything is stored or enqueued, ``GET <url>/models`` once from the submitting host.

    no answer (refused, DNS, TLS, timeout)          error (InfraError): the URL, what failed, what to do
    401/403, the key variable set here              error (ConfigError): the endpoint rejected the key
    401/403, the key variable not set here          warning: the key lives on the worker hosts
    401/403, the sweep names no key variable        error (ConfigError): the endpoint wants a key
    a model list without some of the sweep's models warning naming them (llama.cpp answers any name)
    any other answer (404, 5xx, not a model list)   warning: reachable, the models not checked
    a model list with every model                   ok

Errors exit 2 with nothing changed; ``--no-endpoint-check`` skips the check (a laptop that cannot
reach an endpoint the worker hosts can). Worker hosts never run it: their proxy meets the endpoint
on each call. The key is read here from the submitting environment only to be sent; no message
carries it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text

from cab_cli.common import console, err_console
from cab_core.errors import ConfigError, InfraError, SweepError
from cab_core.masking import mask_url
from cab_core.schema import LocalEndpointSpec, RemoteEndpointSpec, SweepSpec
from cab_workers.host.local_models import local_models
from cab_workers.proxy.models_listing import ModelsListing, fetch_models

CHECK_TIMEOUT_S = 10.0
"""How long the check waits for the endpoint (connect, and the answer)."""
SKIP_HINT = "pass --no-endpoint-check when only the worker hosts can reach it"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class EndpointCheck:
    """What the check found: where it asked, and the warnings to print (none: all is well)."""

    url: str
    """The endpoint's base URL, masked."""
    warnings: tuple[str, ...] = ()


def verdict(
    listing: ModelsListing, endpoint: RemoteEndpointSpec, models: Sequence[str], key_here: bool
) -> EndpointCheck:
    """Judge one answer to ``GET /models`` (pure). ``key_here``: the sweep's key variable is set in
    the submitting environment (so the key was sent). Raises ``ConfigError`` for a key problem."""
    url = mask_url(endpoint.url)
    var = endpoint.api_key_env
    if listing.status in (401, 403):
        if var is None:
            raise ConfigError(
                f"the endpoint at {url} wants a key (HTTP {listing.status}); name the variable that "
                "holds it on the worker hosts with api_key_env"
            )
        if key_here:
            raise ConfigError(f"the endpoint at {url} rejected the key in ${var} (HTTP {listing.status})")
        return EndpointCheck(
            url,
            (
                f"the endpoint at {url} answers but wants a key (HTTP {listing.status}); ${var} is not "
                "set here, so the key was not checked: it must be set on every worker host",
            ),
        )
    if not listing.is_listing:
        what = f"HTTP {listing.status}" if not 200 <= listing.status < 300 else "not an OpenAI model list"
        return EndpointCheck(
            url, (f"the endpoint at {url} answers but does not list its models ({what}); models not checked",)
        )
    missing = [m for m in models if m not in set(listing.ids)]
    if not missing:
        return EndpointCheck(url)
    return EndpointCheck(
        url,
        (
            f"the endpoint at {url} does not list {', '.join(missing)} (it lists "
            f"{_some(listing.ids)}); cells ask for them by these names anyway (some servers, like "
            "llama.cpp's, answer to any name)",
        ),
    )


def check_endpoint(
    endpoint: RemoteEndpointSpec,
    models: Sequence[str],
    key: str | None,
    *,
    timeout_s: float = CHECK_TIMEOUT_S,
    ca_bundle: Path | None = None,
) -> EndpointCheck:
    """Ask the endpoint for its models (with ``key`` when given) and judge the answer (``verdict``).

    Raises ``InfraError`` when it does not answer, ``ConfigError`` for a key it rejects or wants."""
    try:
        listing = fetch_models(endpoint.url, key, timeout_s, ca_bundle=ca_bundle)
    except InfraError as e:
        raise InfraError(
            f"endpoint check: {e}; check the URL and that the server is up, or {SKIP_HINT}"
        ) from e
    return verdict(listing, endpoint, models, key_here=bool(key))


def check_sweep_endpoint(
    spec: SweepSpec, environ: Mapping[str, str], *, ca_bundle: Path | None = None
) -> EndpointCheck | None:
    """``check_endpoint`` for a sweep whose endpoint is remote, with the key from ``environ`` (the
    submitting environment); None for any other endpoint (nothing to reach)."""
    endpoint = spec.policy.endpoint
    if not isinstance(endpoint, RemoteEndpointSpec):
        return None
    key = environ.get(endpoint.api_key_env) if endpoint.api_key_env else None
    return check_endpoint(endpoint, spec.models, key or None, ca_bundle=ca_bundle)


def check_local_models(spec: SweepSpec, images_dir: Path) -> None:
    """For ``endpoint: local``: every model the sweep serves locally has its ``images/model-<name>/``
    (else SweepError naming the local models there). Nothing to check for other endpoints."""
    endpoint = spec.policy.endpoint
    if not isinstance(endpoint, LocalEndpointSpec):
        return
    known = local_models(images_dir)
    for model in [endpoint.model] if endpoint.model else spec.models:
        if model not in known:
            raise SweepError(
                f"no local model {model!r}: {images_dir}/model-{model}/Dockerfile is missing (local "
                f"models: {', '.join(known) or 'none'})"
            )


def preflight(
    spec: SweepSpec,
    environ: Mapping[str, str],
    *,
    ca_bundle: Path | None = None,
    images_dir: Path | None = None,
    reach: bool = True,
) -> None:
    """The submit-time checks: ``check_local_models`` (with ``images_dir``), then, when ``reach``,
    ``check_sweep_endpoint``, printed: one line when all is well, a warning line per finding (on
    stderr, as plain text: a server's model names are not markup). Errors propagate."""
    if images_dir is not None:
        check_local_models(spec, images_dir)
    if not reach:
        return
    found = check_sweep_endpoint(spec, environ, ca_bundle=ca_bundle)
    if found is None:
        return
    for warning in found.warnings:
        err_console.print(Text("warning: ", style="yellow") + Text(warning), soft_wrap=True)
    if not found.warnings:
        console.print(
            Text(f"endpoint {found.url} answers and lists every model of the sweep", style="dim"),
            soft_wrap=True,
        )


def _some(ids: Sequence[str], shown: int = 5) -> str:
    """Up to ``shown`` of a server's model ids, each without control characters and cut at 80."""
    if not ids:
        return "none"
    more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
    return ", ".join(_CONTROL.sub("", i)[:80] for i in ids[:shown]) + more
