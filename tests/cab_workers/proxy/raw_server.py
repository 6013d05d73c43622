"""A real HTTP/1.1 endpoint written byte by byte, for answers no framework would send (a keep-alive
comment before the first token, a 500 about the request): ``serving(handler)`` runs an asyncio server
with ``handler(reader, writer)`` on 127.0.0.1 in a thread and yields its ``/v1`` base URL."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """One request's body (the head read up to its blank line, the body by its content-length)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = next((int(ln.split(b":")[1]) for ln in lines if ln.lower().startswith(b"content-length")), 0)
    return await reader.readexactly(length)


@contextmanager
def serving(handler: Handler) -> Iterator[str]:
    """The loop and its server live in their own thread (created there too: the calling thread may have
    a loop of its own running); on exit the handlers still running are cancelled and the loop closed."""
    loop = asyncio.new_event_loop()
    started: concurrent.futures.Future[asyncio.Server] = concurrent.futures.Future()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            started.set_result(loop.run_until_complete(asyncio.start_server(handler, "127.0.0.1", 0)))
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            started.set_exception(e)
            return
        loop.run_forever()

    thread = threading.Thread(target=run, name="raw-server", daemon=True)
    thread.start()
    server = started.result(10)

    async def stop() -> None:
        server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1"
    finally:
        with suppress(TimeoutError):
            asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
