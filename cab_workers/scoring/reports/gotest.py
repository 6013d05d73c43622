"""``go test -json`` (GOFLAGS=-json): go's own event stream, from go's stdout."""

from __future__ import annotations

from .cases import CaseResult, Outcome, ReportBuilder, RunnerReport, SuiteRun, json_lines, read_text

_GO_FINAL: dict[str, Outcome] = {"pass": "passed", "fail": "failed", "skip": "skipped"}


def parse_go_test_json(stdout: bytes | str) -> RunnerReport:
    """``go test -json``: every test and subtest with a final pass/fail/skip, grouped by package.

    Every line of go's stdout is an event of go's own (the test binaries' output arrives wrapped in
    ``output`` events), so a line that is not JSON is a problem. A result for a test that is not
    running, a test that never finishes, and a package that never ends are problems, and then every
    result of that package counts as an error: printed lines can only lower the score.
    """
    builder = ReportBuilder()
    packages: dict[str, SuiteRun] = {}
    ended: set[str] = set()
    for event in json_lines(read_text(stdout, builder), builder, strict=True):
        action, pkg, test = event.get("Action"), event.get("Package"), event.get("Test")
        if not isinstance(action, str) or not isinstance(pkg, str | None) or not isinstance(test, str | None):
            if "ImportPath" not in event:  # build-output / build-fail events carry ImportPath instead
                builder.problem("go test event without a valid Action/Package/Test")
            continue
        if pkg is None:
            continue
        run = packages.setdefault(pkg, SuiteRun(f"package {pkg}"))
        if test is None:
            if action in _GO_FINAL:
                ended.add(pkg)
        elif action == "run":
            run.running[test] = None
        elif action in _GO_FINAL:
            run.finish(builder, test, _GO_FINAL[action])
    for pkg, run in packages.items():
        if pkg not in ended:
            run.flag(builder, f"package {pkg} started and never ended")
        for name, outcome in run.close(builder):
            builder.add(CaseResult(name=name, file=None, outcome=outcome, group=pkg))
    return builder.build()
