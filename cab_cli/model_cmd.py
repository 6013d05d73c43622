"""``cab endpoint --model NAME``: a local model server by hand, on this host's 127.0.0.1, until Ctrl-C.

The same server ``endpoint: local:<name>`` starts for a sweep (``cab_workers/host/local_models.py``),
here published on a host port so anything (curl, a TUI on the laptop, ``bench/real_model.py``, another
sweep with ``endpoint: http://127.0.0.1:<port>/v1``) can use it.
"""

from __future__ import annotations

import threading

from cab_cli.common import console, fail
from cab_core.errors import CabError
from cab_core.settings import Settings


def serve_model(settings: Settings, name: str, *, host: str, port: int, slots: int) -> None:
    """Build (when missing) and start local model ``name`` on ``host:port``; block until Ctrl-C, then
    remove it."""
    from cab_workers.composition import host_image_builder
    from cab_workers.host.gpus import detect_gpus
    from cab_workers.host.local_models import LocalModels, image_name
    from cab_workers.host.sandbox import Sandbox

    def progress(message: str) -> None:
        console.print(f"  [dim]{message}[/]")

    try:
        builder = host_image_builder(settings, Sandbox())
        models = LocalModels(
            builder, slots=slots, gpus=detect_gpus(), progress=progress, publish=(host, port)
        )
        with models:
            server = models.acquire(name)
            console.print(
                f"[bold]{image_name(name)}[/] serving [bold]{server.published_url}[/]\n"
                f"  model_build_id  {server.build_id}\n"
                f"  in a sweep      endpoint: {server.published_url}   (or endpoint: local:{name})\n"
                "  Ctrl-C stops and removes it."
            )
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                console.print(f"stopping {server.container}")
    except CabError as e:
        fail(e)
