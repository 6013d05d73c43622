"""The scripted OpenAI-compatible model endpoint: deterministic 'models' for testing cab end to end.

``create_app`` builds the ASGI app; ``ScriptedEndpoint`` serves it on a background thread;
``python -m cab_workers.endpoint`` serves it in the foreground. Behaviours are listed in
``cab_workers.endpoint.behaviours``.
"""

from __future__ import annotations

from cab_workers.endpoint.app import create_app
from cab_workers.endpoint.behaviours import BEHAVIOURS, behaviour_name
from cab_workers.endpoint.server import ScriptedEndpoint

__all__ = ["BEHAVIOURS", "ScriptedEndpoint", "behaviour_name", "create_app"]
