"""The ledger entry against the result pages (``page-markup``): the agent writes markup, script and a
fake pass into file names and contents, which the cell page shows in its diff and change lists."""

from __future__ import annotations

from cab_endpoint.ledger.snippets import Write
from cab_endpoint.scripts import _safe_rel
from cab_endpoint.task_index import TaskEntry

PAGE_MARKUP = (
    "</script><script>document.title = 'PASS 1.000'; alert('cab')</script>\n"
    '<img src=x onerror="alert(1)"><svg onload="alert(2)"></svg>{{ 7*7 }}\n'
    "<h1>pass 1.000 - composite 1.000</h1>\ntest result: ok. 99 passed; 0 failed\n"
)
"""What ``page-markup`` writes: script, event handlers, template syntax and a fake pass."""


def page_markup(task: TaskEntry) -> list[Write]:
    """Markup in a file's name and contents, for the result pages that show the agent's diff and files."""
    shipped = set(task.workdir_files())
    names = ("<img src=x onerror=alert(3)>.md", "RESULT.html")
    return [(_safe_rel(n), PAGE_MARKUP.encode(), False) for n in names if n not in shipped]
