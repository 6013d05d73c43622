"""failure_messages: what each failing test printed, per runner, from raw output (table-driven)."""

from __future__ import annotations

import json

import pytest

from cab_workers.taskci.failure_messages import failure_messages, message_for

pytestmark = pytest.mark.unit

PYTEST_XML = b"""<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="tests.test_h" name="test_a" file="tests/test_h.py"/>
<testcase classname="tests.test_h" name="test_b" file="tests/test_h.py">
<failure message="AssertionError: assert 2 == 3">long traceback</failure></testcase>
</testsuite></testsuites>"""
GO = "\n".join(
    json.dumps(e)
    for e in [
        {"Action": "run", "Package": "p", "Test": "TestA"},
        {"Action": "output", "Package": "p", "Test": "TestA", "Output": "    a_test.go:9: got 1, want 2\n"},
        {"Action": "fail", "Package": "p", "Test": "TestA"},
        {"Action": "pass", "Package": "p", "Test": "TestB"},
    ]
)
CARGO = "\n".join(
    json.dumps(e)
    for e in [
        {"type": "test", "event": "ok", "name": "ok_one"},
        {"type": "test", "event": "failed", "name": "bad_one", "stdout": "assertion failed: x\n"},
    ]
)
NODE = """▶ parseQuery
  ✔ plain (0.5ms)
  ✖ plus is a space (1.2ms)
    AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:
    'a b' !== 'a+b'
  ✔ after (0.1ms)
▶ parseQuery (3ms)
"""


@pytest.mark.parametrize(
    ("runner", "stdout", "xml", "expected"),
    [
        ("pytest", "", {"pytest.xml": PYTEST_XML}, {"test_b": "AssertionError: assert 2 == 3"}),
        ("junit", "", {"TEST-x.xml": PYTEST_XML}, {"test_b": "AssertionError: assert 2 == 3"}),
        ("go", GO, {}, {"TestA": "    a_test.go:9: got 1, want 2\n"}),
        ("cargo", CARGO, {}, {"bad_one": "assertion failed: x\n"}),
        (
            "node",
            NODE,
            {},
            {
                "plus is a space": "    AssertionError [ERR_ASSERTION]: Expected values to be "
                "strictly equal:\n    'a b' !== 'a+b'"
            },
        ),
        ("pytest", "", {"pytest.xml": b"<!DOCTYPE x><testsuites/>"}, {}),
        ("pytest", "", {"pytest.xml": b"not xml"}, {}),
    ],
)
def test_failure_messages(runner: str, stdout: str, xml: dict[str, bytes], expected: dict[str, str]) -> None:
    assert failure_messages(runner, stdout, xml) == expected


def test_message_for_matches_the_axis_name() -> None:
    messages = {"test_b": "m1", "plus is a space": "m2", "TestA": "m3", "tests::dup": "m4", "dup": "x"}
    assert message_for(messages, "tests/hidden.rs::tests::dup") == "m4"
    assert message_for(messages, "tests/test_h.py::test_b") == "m1"
    assert message_for(messages, "test/q.test.js::parseQuery > plus is a space") == "m2"
    assert message_for(messages, "TestA") == "m3"
    assert message_for(messages, "other") == ""
