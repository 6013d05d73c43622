"""The site server: pages with the right types, nothing outside the root or hidden, a clear port error."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from cab_core.errors import CabError
from cab_site.serve import ServerHandle

pytestmark = pytest.mark.unit

SECRET = "manifest-must-not-leak"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A small built site beside a file outside it that traversal would reach."""
    (tmp_path / "outside.txt").write_text("outside the site")
    root = tmp_path / "site"
    (root / "assets").mkdir(parents=True)
    (root / "cell" / "s1").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>board</title>")
    (root / "cell" / "s1" / "index.html").write_text("<p>cells</p>")
    (root / "cell" / "s1" / "a.html").write_text("<p>a</p>")
    (root / "assets" / "site.css").write_text("body{}")
    (root / "assets" / "live.js").write_text("void 0;")
    (root / "badge.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (root / "rec.cast").write_text('{"version": 2, "width": 80, "height": 24}\n')
    (root / "data.json").write_text("{}")
    (root / ".cab-site.json").write_text(json.dumps({"secret": SECRET}))
    (root / ".hidden").mkdir()
    (root / ".hidden" / "page.html").write_text(SECRET)
    (root / "escape.txt").symlink_to(tmp_path / "outside.txt")
    return root


@pytest.fixture
def server(site: Path) -> Iterator[ServerHandle]:
    with ServerHandle(site) as handle:
        yield handle


def raw_get(server: ServerHandle, path: str) -> tuple[int, bytes]:
    """GET ``path`` exactly as written (httpx would normalise ``/../`` away before sending)."""
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("index.html", "text/html; charset=utf-8"),
        ("assets/site.css", "text/css; charset=utf-8"),
        ("assets/live.js", "text/javascript; charset=utf-8"),
        ("badge.svg", "image/svg+xml"),
        ("rec.cast", "application/x-asciicast"),
        ("data.json", "application/json"),
    ],
)
def test_files_are_served_with_their_content_type_and_no_cache(
    server: ServerHandle, site: Path, path: str, content_type: str
) -> None:
    response = httpx.get(server.url + path)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["cache-control"] == "no-cache"
    assert response.content == (site / path).read_bytes()


def test_a_folder_answers_its_index_and_the_root_the_leaderboard(server: ServerHandle) -> None:
    assert httpx.get(server.url).text == "<!doctype html><title>board</title>"
    assert httpx.get(server.url + "cell/s1/").text == "<p>cells</p>"


def test_a_folder_without_index_is_not_listed(server: ServerHandle) -> None:
    response = httpx.get(server.url + "assets/")
    assert response.status_code == 404
    assert "site.css" not in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/../outside.txt",
        "/%2e%2e/outside.txt",
        "/%2E%2E/outside.txt",
        "/cell/../../outside.txt",
        "/cell/%2e%2e%2f%2e%2e%2foutside.txt",
        "/..%5coutside.txt",
    ],
)
def test_traversal_out_of_the_root_is_refused(server: ServerHandle, path: str) -> None:
    status, body = raw_get(server, path)
    assert status == 400
    assert b"outside the site" not in body


@pytest.mark.parametrize(
    "path", ["/.cab-site.json", "/.hidden/page.html", "/%2ecab-site.json", "/cell/./a.html"]
)
def test_hidden_files_are_not_served(server: ServerHandle, path: str) -> None:
    status, body = raw_get(server, path)
    assert status == 404
    assert SECRET.encode() not in body


def test_a_symlink_out_of_the_root_is_not_followed(server: ServerHandle) -> None:
    status, body = raw_get(server, "/escape.txt")
    assert status == 404
    assert b"outside the site" not in body


def test_without_a_live_source_the_endpoint_says_not_live(server: ServerHandle) -> None:
    response = httpx.get(server.url + "_cab/live")
    assert response.status_code == 200
    assert response.json() == {"live": False}
    assert response.headers["cache-control"] == "no-cache"


def test_a_missing_favicon_is_an_empty_answer_not_a_404(server: ServerHandle, site: Path) -> None:
    response = httpx.get(server.url + "favicon.ico")
    assert (response.status_code, response.content) == (204, b"")
    (site / "favicon.ico").write_bytes(b"icon")
    assert httpx.get(server.url + "favicon.ico").content == b"icon"


def test_a_port_in_use_is_one_line_cab_error(site: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CabError, match=f"port {port} on 127.0.0.1 is in use") as caught:
            ServerHandle(site, port=port).__enter__()
    assert "\n" not in str(caught.value)


def test_a_missing_site_folder_is_a_cab_error(tmp_path: Path) -> None:
    with pytest.raises(CabError, match="no site at"):
        ServerHandle(tmp_path / "nope").__enter__()


def test_the_server_stops_and_frees_its_port(site: Path) -> None:
    with ServerHandle(site) as handle:
        url = handle.url
        assert httpx.get(url).status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=2)
