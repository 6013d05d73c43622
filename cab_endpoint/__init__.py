"""The scripted OpenAI-compatible model endpoint: deterministic 'models' for testing cab end to end.

``create_app`` builds the ASGI app; ``ScriptedEndpoint`` serves it on a background thread;
``python -m cab_endpoint`` serves it in the foreground. Behaviours are listed in
``cab_endpoint.behaviours``.
"""

from __future__ import annotations

from cab_endpoint.api import create_app
from cab_endpoint.behaviours import BEHAVIOURS, behaviour_name
from cab_endpoint.serve import ScriptedEndpoint

__all__ = ["BEHAVIOURS", "ScriptedEndpoint", "behaviour_name", "create_app"]
