"""A model endpoint as slow as a local model on a CPU: a real HTTP/1.1 server that answers a stream with
one chunk and then nothing more, and a non-streamed call never. It notes when a request arrived, when
the chunk went out, and when the proxy closed the connection (the proxy cancelled the call)."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .raw_server import serving

FIRST_TEXT = "Let me look at the failing test first, then fix the parser."
FIRST_EVENT = (
    b"data: "
    + json.dumps(
        {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": FIRST_TEXT}}]}
    ).encode()
    + b"\n\n"
)

HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


class SlowUpstream:
    """One connection per request (an answer never ends, so none is reused)."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        """A whole request came in."""
        self.sent = threading.Event()
        """A stream's first chunk went out."""
        self.closed = threading.Event()
        """The proxy closed a connection whose answer was unfinished."""
        self.requests = 0
        self.first = FIRST_EVENT
        """What a stream sends before it goes quiet (a whole answer: its server never closes it)."""

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            body = json.loads(await reader.readexactly(int(length.group(1)))) if length else {}
            self.requests += 1
            self.arrived.set()
            if body.get("stream"):
                writer.write(HEAD + b"%x\r\n%s\r\n" % (len(self.first), self.first))
                await writer.drain()
                self.sent.set()
            while await reader.read(65536):  # b"": the proxy closed the connection
                pass
            self.closed.set()
        finally:
            writer.close()


@contextmanager
def slow_upstream() -> Iterator[tuple[SlowUpstream, str]]:
    """Serve a ``SlowUpstream`` on 127.0.0.1 in a thread; yields it and its ``/v1`` base URL."""
    upstream = SlowUpstream()
    with serving(upstream.serve) as url:
        yield upstream, url
