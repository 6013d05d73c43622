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


TS_OUT_DIR = "/tmp/cab-ts"
"""Where the ``tsc`` runner's test command compiles to (``tsc --outDir /tmp/cab-ts``)."""
_TS_SOURCE = {".js": ".ts", ".mjs": ".mts", ".cjs": ".cts"}


def ts_source(file: str | None) -> str | None:
    """The work-dir ``.ts`` source of a compiled file under ``TS_OUT_DIR`` (tsc ``rootDir "."``):
    ``/tmp/cab-ts/test/x.test.js`` -> ``test/x.test.ts``; other paths are kept as they are."""
    if file is None or not file.startswith(TS_OUT_DIR + "/"):
        return file
    rel = file[len(TS_OUT_DIR) + 1 :]
    for js, ts in _TS_SOURCE.items():
        if rel.endswith(js):
            return rel[: -len(js)] + ts
    return rel


def parse_tsc_report(data: bytes | str) -> RunnerReport:
    """``parse_node_report`` over the compiled tests, with each file mapped back to its ``.ts``
    source (``ts_source``); a file-level error case is renamed with it."""
    report = parse_node_report(data)
    cases = []
    for c in report.cases:
        file = ts_source(c.file)
        name = file if c.group == "file" and c.name == c.file and file is not None else c.name
        cases.append(CaseResult(name=name, file=file, outcome=c.outcome, group=c.group))
    return RunnerReport(cases=tuple(cases), problems=report.problems)
