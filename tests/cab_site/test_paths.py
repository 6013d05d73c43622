"""Page paths: stable, injective, safe as relative links from file:// pages."""

from __future__ import annotations

import posixpath

import pytest

from cab_site import paths

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "segment"),
    [
        ("opencode", "opencode"),
        ("gemma3:270m", "gemma3~3A270m"),
        ("a b", "a~20b"),
        ("~", "~7E"),
        ("é", "~C3~A9"),
        (".", "~2E"),
        ("..", "~2E."),
        (".hidden", "~2Ehidden"),
        ("v1.2", "v1.2"),
        ("", "~"),
    ],
)
def test_segment_keeps_safe_characters_and_encodes_the_rest(text: str, segment: str) -> None:
    assert paths.segment(text) == segment


def test_segments_never_collide_across_awkward_names() -> None:
    names = [
        "a:b",
        "a~3Ab",
        "a/b",
        "a%b",
        ".",
        "..",
        "~2E",
        "",
        "~",
        "a b",
        "a+b",
        "A:B",
        ".x",
        "~2Ex",
        "~2E.",
    ]
    encoded = [paths.segment(n) for n in names]
    assert len(set(encoded)) == len(names)
    assert all("/" not in e and ":" not in e and not e.startswith(".") for e in encoded)


def test_cell_pages_of_reruns_and_slashed_models_are_distinct_and_nested() -> None:
    one = paths.cell_page("demo/opencode/meta/llama-3:70b/polyglot/rust-fix")
    two = paths.cell_page("demo/opencode/meta/llama-3:70b/polyglot/rust-fix#run2")
    assert one == "cell/demo/opencode/meta/llama-3~3A70b/polyglot/rust-fix.html"
    assert two == "cell/demo/opencode/meta/llama-3~3A70b/polyglot/rust-fix~run2.html"
    assert paths.cell_badge("demo/a/m/c/t#run2").endswith("badge/cell/demo/a/m/c/t~run2.svg")
    assert paths.pair_badge("aider", "meta/llama") == "badge/aider/meta/llama.svg"
    assert paths.task_page("polyglot/rust-fix") == "task/polyglot/rust-fix.html"


@pytest.mark.parametrize(
    ("here", "to", "link"),
    [
        ("index.html", "cell/s/t/m/c/x.html", "cell/s/t/m/c/x.html"),
        ("cell/s/t/m/c/x.html", "index.html", "../../../../../index.html"),
        ("cell/s/t/m/c/x.html", "task/c/x.html", "../../../../../task/c/x.html"),
        ("task/c/x.html", "assets/site.css", "../../assets/site.css"),
    ],
)
def test_links_are_relative_and_resolve_to_the_target(here: str, to: str, link: str) -> None:
    assert paths.href(here, to) == link
    assert posixpath.normpath(posixpath.join(posixpath.dirname(here), link)) == to
