"""A price table with a NaN, infinite or negative price is refused in one line naming model and field."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from pydantic import ValidationError

from cab_core.errors import ConfigError
from cab_core.pricing import ModelPrice, PriceTable, cost_usd

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("field", ["input", "output", "cached_input"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, -1.0])
def test_a_nan_infinite_or_negative_price_is_refused(field: str, value: float) -> None:
    prices = {"input": 1.0, "output": 2.0, field: value}
    with pytest.raises(ValidationError):
        ModelPrice(**prices)


@pytest.mark.parametrize(
    ("price", "needle"),
    [
        ("{input: .nan, output: 1}", "model '*gpt-4.1' input: Input should be a finite number"),
        ("{input: 1, output: .inf}", "model '*gpt-4.1' output: Input should be a finite number"),
        (
            "{input: 1, output: 1, cached_input: -.inf}",
            "model '*gpt-4.1' cached_input: Input should be a finite",
        ),
        ("{input: 1, output: -2}", "model '*gpt-4.1' output: Input should be greater than or equal to 0"),
    ],
)
def test_a_price_table_with_a_nan_or_infinite_price_is_one_error_naming_model_and_field(
    tmp_path: Path, price: str, needle: str
) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(f'version: v\nmodels:\n  "scripted/*": {{input: 0, output: 0}}\n  "*gpt-4.1": {price}\n')
    with pytest.raises(ConfigError) as info:
        PriceTable.load(path)
    message = str(info.value)
    assert message.startswith(f"price table {path}: {needle}")
    assert "\n" not in message


def test_errors_outside_the_models_keep_their_dotted_place(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text("models: {}\n")
    with pytest.raises(ConfigError, match=r": version: Field required$"):
        PriceTable.load(path)


def test_every_shipped_price_is_finite_so_every_cost_is() -> None:
    table = PriceTable.load()
    for model, price in table.models.items():
        for value in (price.input, price.output, price.cached_input or 0.0):
            assert math.isfinite(value) and value >= 0, model
        cost = cost_usd(price, 1_000_000, 1_000_000, 500_000)
        assert cost is not None and math.isfinite(cost)
