"""The cell page shows each model call's sampling parameters (cab's forced values marked) and the cell's
distinct sets in its run identity; the agent's strings reach the page as text, never as markup."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cab_core.store import ResultStore
from cab_site import paths
from cab_site.build import build_site
from tests.cab_core.store.factories import make_result

pytestmark = pytest.mark.unit

HOSTILE = "</td><script>alert(1)</script>"


def test_the_cell_page_shows_what_was_sent_and_what_cab_set(tmp_path: Path) -> None:
    result = make_result(sweep_id="s1", calls=2)
    calls = [
        c.model_copy(
            update={
                "sampling": {"temperature": 0.7, "stop": [HOSTILE]},
                "sampling_forced": {"temperature": 0.0},
            }
        )
        for c in result.model_calls
    ]
    result = result.model_copy(update={"model_calls": calls})
    store = ResultStore(f"sqlite:///{tmp_path / 'cab.db'}")
    store.create_schema()
    store.upsert_result(result)
    out = tmp_path / "site"
    build_site(store, ["s1"], out)
    html = (out / paths.cell_page(result.identity.cell_id)).read_text()
    identity = html.split('<section id="identity">', 1)[1].split("</section>", 1)[0]
    sent = re.search(r"<dt>sampling sent</dt><dd>(.*?)</dd>", identity)
    forced = re.search(r"<dt>sampling set by cab</dt><dd>(.*?)</dd>", identity)
    assert (
        sent
        and sent[1]
        == "temperature=0.7 stop=[&#34;&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;&#34;] (2 calls)"
    )
    assert forced and forced[1] == "temperature=0.0 (2 calls)"
    table = html.split('<section id="calls">', 1)[1].split("</section>", 1)[0]
    assert "<th>Sampling</th>" in table
    assert table.count("temperature=0.0 (set by cab; agent sent 0.7)") == 2
    assert "<script>alert" not in html and "</td><script>" not in html
