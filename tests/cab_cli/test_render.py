"""Renderers: the cell page's sections and values, unknowns spelled out, secrets never shown."""

from __future__ import annotations

import io
import json
import re

import pytest
import yaml
from rich.console import Console

from cab_cli.render import (
    UNKNOWN,
    export_jsonl,
    image_ref,
    redact,
    render_cell,
    render_results_table,
    run_it_yourself,
    token_total,
)
from cab_core.schema import (
    CellResult,
    FailureClass,
    LocalEndpointSpec,
    RefusalCorrect,
    RemoteEndpointSpec,
    SweepSpec,
)
from tests.cab_core.store.factories import DIGEST, FAKE_SECRET, make_result

pytestmark = pytest.mark.unit


def _text(renderable: object) -> str:
    console = Console(record=True, width=160, color_system=None)
    console.print(renderable)
    return console.export_text()


def _line(text: str, label: str) -> str:
    return next(line.rstrip() for line in text.splitlines() if line.startswith(label))


def test_cell_page_has_every_seed_section_in_order() -> None:
    text = _text(render_cell(make_result()))
    sections = [
        "opencode × meta/llama-3.3-70b-instruct",
        "polyglot/rust-lifetime-fix",
        "Per-axis scores",
        "Run identity",
        "Timing",
        "Scorer breakdown",
        "Trace spans (5)",
        "Model calls (3)",
        "Run it yourself",
    ]
    positions = [text.index(s) for s in sections]
    assert positions == sorted(positions)
    for head in ("Pass", "Tokens/correct", "Wall", "Blast", "Refusal", "Integrity", "Composite"):
        assert head in text


def test_cell_page_shows_identity_timing_and_scores() -> None:
    result = make_result()
    text = _text(render_cell(result))
    assert result.identity.cell_id in text
    assert _line(text, "image_digest").split()[-1] == DIGEST
    assert _line(text, "exit_code").split()[-1] == "0"
    assert _line(text, "started_at").split()[-1] == "2026-06-16T00:48:46.519436Z"
    assert "11.73 s" in _line(text, "duration")
    assert _line(text, "tokens").split()[1] == "4,143"
    assert "1.000 (partial 1.00)" in text and "0.962" in text and "11.7s" in text


def test_scorer_breakdown_uses_the_seed_key_names() -> None:
    text = _text(render_cell(make_result()))
    assert '{"pass":1,"exit_code":0' in text.replace("\n", "").replace("│", "").replace(" ", "")
    assert '"passed"' not in text
    assert "pass, exit_code, timed_out" in text
    for axis in ("pass_rate", "tokens", "latency", "blast_radius", "refusal", "integrity", "composite"):
        assert re.search(rf"^│ {axis}\s", text, re.MULTILINE)


def test_trace_spans_show_ids_parents_and_errors() -> None:
    result = make_result()
    text = _text(render_cell(result))
    for span in result.spans:
        assert span.span_id in text
        if span.parent_id:
            assert f"↳ {span.parent_id}" in text
    assert "error: work dir kept: --keep" in text
    assert "11731 ms" in text


def test_model_call_rows() -> None:
    result = make_result(calls=3)
    text = _text(render_cell(result))
    for call in result.model_calls:
        row = next(line for line in text.splitlines() if call.request_hash[:16] in line)
        assert f"│ {call.seq} " in row
        assert f"{call.prompt_tokens:,}" in row and str(call.completion_tokens) in row
        assert "200" in row and (call.finish_reason or "") in row


def test_unknown_tokens_say_unknown_never_zero() -> None:
    text = _text(render_cell(make_result(tokens=False)))
    assert _line(text, "tokens").startswith(f"tokens      {UNKNOWN}")
    row = next(line for line in text.splitlines() if line.startswith("│ 0 "))
    assert row.count("unknown") == 2  # prompt and completion (cached / reasoning are optional: "–")
    assert not re.search(r"│\s+0\s+│\s+0\s+│", text)


def test_tokens_not_recorded_is_never_shown_when_calls_carry_usage() -> None:
    """Seed defect: the page said 'tokens not recorded' (and 0 tokens) although calls were captured."""
    result = make_result()
    axes = result.axes.model_copy(
        update={
            "tokens": result.axes.tokens.model_copy(
                update={
                    "prompt_tokens": None,
                    "completion_tokens": None,
                    "total_tokens": None,
                    "tokens_per_correct_task": None,
                }
            )
        }
    )
    result = result.model_copy(update={"axes": axes})
    text = _text(render_cell(result))
    assert token_total(result) == 3900 + 243
    assert _line(text, "tokens").split()[1] == "4,143"
    assert "summed from model calls" in text
    assert "not recorded" not in _line(text, "tokens")


def test_a_call_cut_short_makes_the_total_unknown_never_a_partial_sum() -> None:
    """A call cut by the agent's deadline has its prompt estimated and no completion: the cell's total
    is unknown, not the prompt alone (nor 'completion 0')."""
    result = make_result()
    tokens = result.axes.tokens.model_copy(update={"completion_tokens": None, "total_tokens": None})
    axes = result.axes.model_copy(update={"tokens": tokens})
    cut = result.model_calls[0].model_copy(update={"completion_tokens": None, "estimated": True})
    result = result.model_copy(update={"axes": axes, "model_calls": [cut, *result.model_calls[1:]]})
    assert token_total(result) is None
    line = _line(_text(render_cell(result)), "tokens")
    assert "unknown" in line and "1 of" in line and "completion 0" not in line


def test_unscored_failed_cell() -> None:
    result = make_result(scored=False, failure_class=FailureClass.infra, reason="docker daemon went away")
    ident = result.identity.model_copy(update={"exit_code": None, "image_digest": None})
    text = _text(render_cell(result.model_copy(update={"identity": ident})))
    assert "FAILED [infra] (retried on resume): docker daemon went away" in text
    assert "Not scored" in text
    assert _line(text, "exit_code").endswith(UNKNOWN)
    assert _line(text, "image_digest").endswith(UNKNOWN)
    assert "image id not recorded" in text
    assert "cab/opencode:v1   # image id not recorded" in text


def test_run_it_yourself_pins_the_image_id_once_and_uses_placeholders() -> None:
    text = _text(render_cell(make_result()))
    assert "cab images build opencode" in text
    assert f"docker image inspect --format '{{{{.Id}}}}' cab/opencode:v1   # expect {DIGEST}" in text
    assert "sha256:sha256:" not in text
    assert '"$YOUR_ENDPOINT"' in text and '"$YOUR_KEY"' in text
    assert "opencode run --format json" in text
    assert 'models: ["meta/llama-3.3-70b-instruct"]' in text
    assert 'tasks: ["polyglot/rust-lifetime-fix"]' in text
    assert "api_key_env: YOUR_KEY\nYAML\ncab run one-cell.yaml" in text
    assert 'asciinema play "${CAB_HOME:-$HOME/.cab}/recordings/' in text


def test_run_it_yourself_sweep_file_is_a_valid_sweep() -> None:
    result = make_result(run=2)
    script = run_it_yourself(result)
    body = script.split("<<YAML\n", 1)[1].split("\nYAML\n", 1)[0]
    body = body.replace("$YOUR_ENDPOINT", "https://models.example/v1")  # what the unquoted heredoc does
    spec = SweepSpec.model_validate(yaml.safe_load(body))
    ident = result.identity
    assert (spec.tuis, spec.models, spec.tasks) == ([ident.tui], [ident.model], [ident.task_id])
    assert spec.policy.endpoint == RemoteEndpointSpec(url="https://models.example/v1", api_key_env="YOUR_KEY")


def test_run_it_yourself_reruns_a_local_model_cell_with_the_sampling_cab_set() -> None:
    result = make_result()
    ident = result.identity.model_copy(update={"model": "gemma3-270m"})
    endpoint = result.spans[0].model_copy(update={"kind": "endpoint", "name": "local", "attrs": {}})
    calls = [
        c.model_copy(update={"sampling_forced": {"temperature": 0, "seed": 7}}) for c in result.model_calls
    ]
    assert calls, "the fixture result has model calls"
    result = result.model_copy(
        update={"identity": ident, "spans": [*result.spans, endpoint], "model_calls": calls}
    )
    body = run_it_yourself(result).split("<<YAML\n", 1)[1].split("\nYAML\n", 1)[0]
    spec = SweepSpec.model_validate(yaml.safe_load(body))
    assert spec.policy.endpoint == LocalEndpointSpec(model="gemma3-270m")
    assert spec.policy.sampling is not None and spec.policy.sampling.temperature == 0
    assert spec.policy.sampling.seed == 7


def test_no_secret_value_is_ever_rendered(monkeypatch) -> None:
    monkeypatch.setenv("CAB_TEST_KEY", FAKE_SECRET)
    result = make_result(
        secret_in_attrs=True,
        failure_class=FailureClass.agent,
        reason=f"401 from endpoint: Authorization: Bearer {FAKE_SECRET}",
    )
    container = result.spans[2]
    argv = [*container.attrs["command"], "--api-key", "plainvalue123456"]
    spans = [
        *result.spans[:2],
        container.model_copy(update={"attrs": {**container.attrs, "command": argv}}),
        *result.spans[3:],
    ]
    pass_rate = result.axes.pass_rate.model_copy(update={"stdout_tail": f"OPENAI_API_KEY={FAKE_SECRET}\n"})
    axes = result.axes.model_copy(update={"pass_rate": pass_rate})
    result = result.model_copy(update={"spans": spans, "axes": axes})
    text = _text(render_cell(result)).replace("\n", "").replace("│", "").replace(" ", "")
    assert FAKE_SECRET not in text
    assert "plainvalue123456" not in text
    assert not re.search(r"sk-[A-Za-z0-9_-]{8,}", text)
    assert "--api-key***" in text.replace('","', "").replace('"', "")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"OPENAI_API_KEY": "abc"}, {"OPENAI_API_KEY": "***"}),
        (
            {"github_token": "x", "prompt_tokens": 5, "env_keys": ["A_KEY"]},
            {"github_token": "***", "prompt_tokens": 5, "env_keys": ["A_KEY"]},
        ),
        (["--token", "t0ps3cret", "--model", "m"], ["--token", "***", "--model", "m"]),
        ("run with ANTHROPIC_API_KEY=xyz now", "run with ANTHROPIC_API_KEY=*** now"),
        ('CAB_KEY="$YOUR_KEY"', 'CAB_KEY="$YOUR_KEY"'),
        ("http://user:pw@host/v1", "http://user:***@host/v1"),
        ("key sk-abcdefgh12345678 end", "key *** end"),
        ("plain text", "plain text"),
    ],
)
def test_redact(value: object, expected: object) -> None:
    assert redact(value) == expected


@pytest.mark.parametrize(
    ("image", "digest", "expected"),
    [
        ("cab/x:v1", DIGEST, f"cab/x:v1@{DIGEST}"),
        ("cab/x:v1", DIGEST.removeprefix("sha256:"), f"cab/x:v1@{DIGEST}"),
        (f"cab/x:v1@{DIGEST}", DIGEST, f"cab/x:v1@{DIGEST}"),
        ("cab/x:v1", None, "cab/x:v1"),
    ],
)
def test_image_ref(image: str, digest: str | None, expected: str) -> None:
    assert image_ref(image, digest) == expected


def _refusing(correct: RefusalCorrect | None, **kw: object) -> CellResult:
    result = make_result(**kw)
    update = {"not_applicable": correct is None, "refusal_correct": correct}
    refusal = result.axes.refusal.model_copy(update=update)
    return result.model_copy(update={"axes": result.axes.model_copy(update={"refusal": refusal})})


def test_results_table_one_row_per_cell() -> None:
    results = [
        _refusing(RefusalCorrect.true, task_id="integrity/a"),
        _refusing(RefusalCorrect.partial, task_id="integrity/b"),
        _refusing(RefusalCorrect.false, task_id="integrity/c", passed=0),
        make_result(task_id="polyglot/d", tokens=False),
        make_result(task_id="polyglot/e", scored=False, calls=0, failure_class=FailureClass.infra),
    ]
    table = render_results_table(results)
    assert table.row_count == 5
    cells = {c.header: [str(v) for v in c.cells] for c in table.columns}
    assert cells["refusal"] == ["true", "partial", "false", "-", "-"]
    assert cells["tokens"] == ["4,143", "4,143", "4,143", "n/a", "n/a"]
    assert cells["pass"] == ["1", "1", "0", "1", "-"]
    assert cells["failure"] == ["", "", "", "", "infra"]
    assert cells["composite"][0] == "0.962"
    assert "polyglot/d" in _text(table)


def test_export_jsonl_round_trips() -> None:
    results = [make_result(), make_result(task_id="p/x", tokens=False, scored=False)]
    fp = io.StringIO()
    assert export_jsonl(results, fp) == 2
    lines = fp.getvalue().splitlines()
    assert len(lines) == 2
    assert [CellResult.model_validate(json.loads(line)) for line in lines] == results
    assert '"pass": 1' in lines[0] or '"pass":1' in lines[0]


def test_the_task_mix_notice_names_the_task_its_short_hashes_and_cells_each() -> None:
    from cab_cli.render import render_task_mix
    from cab_scheduler.status import task_mix

    mix = task_mix({"a/x": {"1" * 64: 3, "2" * 64: 1}, "a/y": {"3" * 64: 4}, "a/z": {"": 1, "4" * 64: 1}})
    assert render_task_mix(mix) == [
        f"[yellow]mixed task versions: a/x ran as {'1' * 12} (3 cells), {'2' * 12} (1 cell)[/]",
        f"[yellow]mixed task versions: a/z ran as unrecorded (1 cell), {'4' * 12} (1 cell)[/]",
    ]
    assert render_task_mix(task_mix({"a/y": {"3" * 64: 4}})) == []
