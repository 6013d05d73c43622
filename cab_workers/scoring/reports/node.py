"""The JSON lines of cab's own ``node --test`` reporter (``cab_workers/grading/cab_reporter.mjs``)."""

from __future__ import annotations

from .cases import CaseResult, Outcome, ReportBuilder, RunnerReport, json_lines, read_text

_NODE_OUTCOMES: dict[str, Outcome] = {"passed": "passed", "failed": "failed", "skipped": "skipped"}


def parse_node_report(data: bytes | str) -> RunnerReport:
    """The JSON lines of ``cab_reporter.mjs``: ``case`` records (tests and suites), ``file`` records
    (a test file's own process), and a final ``end`` record.

    Node may report two tests of one file under the same name, so cases are not folded. A test file
    whose process failed for a reason other than a failing test (it crashed, or exited non-zero
    between tests) becomes an ``error`` case named after the file. No ``end`` record means the
    runner stopped before it finished: a problem.
    """
    builder = ReportBuilder(dedupe=False)
    ended = False
    for record in json_lines(read_text(data, builder), builder, strict=True):
        kind = record.get("type")
        if ended:
            builder.problem("records after the end record")
            break
        if kind == "end":
            ended = True
        elif kind == "case":
            name, file, outcome = record.get("name"), record.get("file"), record.get("outcome")
            if not isinstance(name, str) or not isinstance(file, str | None) or outcome not in _NODE_OUTCOMES:
                builder.problem("node case record without a valid name/file/outcome")
                continue
            group = record.get("kind") if record.get("kind") in ("test", "suite") else "test"
            builder.add(CaseResult(name=name, file=file, outcome=_NODE_OUTCOMES[outcome], group=group))
        elif kind == "file":
            file = record.get("file")
            if not isinstance(file, str):
                builder.problem("node file record without a file")
            elif record.get("outcome") == "failed" and record.get("failure") != "subtestsFailed":
                builder.add(CaseResult(name=file, file=file, outcome="error", group="file"))
    if not ended:
        builder.problem("the node report has no end record: the runner stopped before it finished")
    return builder.build()
