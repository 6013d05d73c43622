"""The price table: lookups, the shipped file, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from cab_core.errors import ConfigError
from cab_core.pricing import ModelPrice, PriceTable, cost_usd

pytestmark = pytest.mark.unit


def test_the_shipped_table_loads_prices_scripted_models_at_zero_and_knows_no_stranger() -> None:
    table = PriceTable.load()
    assert table.version and table.currency == "USD"
    assert table.price_for("scripted/oracle") == ModelPrice(input=0, output=0)
    assert table.price_for("openai/gpt-4o-mini") is not None
    assert table.price_for("openai/gpt-4o-mini") != table.price_for("openai/gpt-4o")  # order matters
    assert table.price_for("meta/llama-3.3-70b-instruct") is None


def test_exact_ids_win_over_globs() -> None:
    table = PriceTable(
        version="v", models={"*": ModelPrice(input=9, output=9), "a/b": ModelPrice(input=1, output=1)}
    )
    assert table.price_for("a/b") == ModelPrice(input=1, output=1)
    assert table.price_for("c/d") == ModelPrice(input=9, output=9)


@pytest.mark.parametrize(
    ("args", "want"),
    [
        ((ModelPrice(input=2, output=4), 500_000, 250_000, None), 2.0),
        ((ModelPrice(input=2, output=4), 500_000, 0, 500_000), 1.0),  # no cached price: billed as input
        (
            (ModelPrice(input=2, output=4, cached_input=0), 500_000, 0, 900_000),
            0.0,
        ),  # cached capped at prompt
        ((None, 1, 1, None), None),
        ((ModelPrice(input=2, output=4), None, 1, None), None),
    ],
)
def test_cost_usd(args: tuple, want: float | None) -> None:
    got = cost_usd(*args)
    assert got == (pytest.approx(want) if want is not None else None)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("version: v\nmodels: {a: {input: -1, output: 1}}\n", "greater than or equal"),
        ("models: {}\n", "version"),
        ("version: v\ncurrency: EUR\n", "currency must be USD"),
        ("version: [\n", "price table"),
    ],
)
def test_a_bad_table_is_one_config_error(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        PriceTable.load(path)
    assert str(info.value).startswith(f"price table {path}") and "\n" not in str(info.value)
    assert needle in str(info.value) or needle == "price table"
