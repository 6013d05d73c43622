"""Prices of model calls: a versioned table, and the cost of calls under it (pure once loaded).

    PriceTable.load(path=None)     the shipped ``prices.yaml``, or a user's file (``CAB_PRICE_TABLE``)
    table.price_for(model)         ModelPrice, or None: the price is unknown (never read as free)
    cost_usd(price, prompt, completion, cached)
                                   USD for token counts; None when the price or a count is unknown

Cached prompt tokens are billed at ``cached_input`` when the model has one, else as input.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cab_core.errors import ConfigError

SHIPPED = Path(__file__).with_name("prices.yaml")


def _where(loc: tuple[int | str, ...]) -> str:
    """Where a validation error is: ``model '*gpt-4.1' input`` (ids hold dots), else dotted."""
    if len(loc) > 1 and loc[0] == "models":
        return " ".join([f"model {str(loc[1])!r}", *(str(p) for p in loc[2:])])
    return ".".join(str(p) for p in loc) or "table"


class ModelPrice(BaseModel):
    """USD per million tokens: finite and >= 0 (a NaN or infinite price would poison every cost)."""

    model_config = ConfigDict(extra="forbid")

    input: float = Field(ge=0, allow_inf_nan=False)
    output: float = Field(ge=0, allow_inf_nan=False)
    cached_input: float | None = Field(
        None, ge=0, allow_inf_nan=False, description="Cache reads; None: billed as input."
    )


class PriceTable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1, description="Recorded with every cost priced from this table.")
    as_of: str = ""
    currency: str = "USD"
    models: dict[str, ModelPrice] = Field(default_factory=dict, description="Model id or glob -> price.")

    @classmethod
    def load(cls, path: Path | None = None) -> PriceTable:
        """Read a price table; a malformed file is one ``ConfigError`` line naming it."""
        path = path or SHIPPED
        try:
            data = yaml.safe_load(path.read_text())
            table = cls.model_validate(data)
        except FileNotFoundError as e:
            raise ConfigError(f"price table {path}: no such file") from e
        except yaml.YAMLError as e:
            raise ConfigError(f"price table {path}: not valid YAML") from e
        except ValidationError as e:
            err = e.errors()[0]
            raise ConfigError(f"price table {path}: {_where(err['loc'])}: {err['msg']}") from e
        if table.currency != "USD":
            raise ConfigError(f"price table {path}: currency must be USD, got {table.currency!r}")
        return table

    def price_for(self, model: str) -> ModelPrice | None:
        """The exact entry, else the first glob that matches, else None (unknown)."""
        if model in self.models:
            return self.models[model]
        return next((p for glob, p in self.models.items() if fnmatchcase(model, glob)), None)


def cost_usd(
    price: ModelPrice | None, prompt: int | None, completion: int | None, cached: int | None
) -> float | None:
    """USD for one call's (or a sum of calls') tokens; None when anything needed is unknown."""
    if price is None or prompt is None or completion is None:
        return None
    cached = min(cached or 0, prompt)
    cached_rate = price.cached_input if price.cached_input is not None else price.input
    return ((prompt - cached) * price.input + cached * cached_rate + completion * price.output) / 1e6
