"""``python -m cab_endpoint --tasks DIR --host H --port P [--profile llama-server]``: serve the scripted
endpoint."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn

from cab_endpoint.api import create_app
from cab_endpoint.profiles import DEFAULT_PROFILE, PROFILES


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m cab_endpoint", description=__doc__)
    parser.add_argument("--tasks", type=Path, required=True, help="tasks root (tasks/<category>/<slug>/)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--api-key-env",
        default=None,
        help="name of an environment variable holding the bearer token to require (never the key itself)",
    )
    parser.add_argument(
        "--profile",
        default=DEFAULT_PROFILE,
        choices=sorted(PROFILES),
        help="server profile of requests without the x-cab-server-profile header",
    )
    args = parser.parse_args(argv)
    if not args.tasks.is_dir():
        parser.error(f"--tasks {args.tasks} is not a directory")
    api_key = None
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env)
        if not api_key:
            parser.error(f"environment variable {args.api_key_env} is empty or unset")
    app = create_app(args.tasks, api_key=api_key, profile_name=args.profile)
    uvicorn.run(app, host=args.host, port=args.port, lifespan="off", timeout_graceful_shutdown=2)


if __name__ == "__main__":
    main()
