"""Axes: values to pixels, with ticks a reader can count on, and the labels written on them.

Costs per solved task span from fractions of a cent (a cheap model that solves much) to dollars (an
expensive one that solves little); on a linear axis the cheap agents collapse into one pixel. So an axis
over more than two decades is logarithmic, with a tick per decade; anything narrower is linear from zero,
with 1-2-5 steps. All-zero or single values still get a usable axis.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

LOG_DECADES = 2.0
"""An axis whose largest value is more than 10**LOG_DECADES times its smallest is logarithmic."""


class Scale(Protocol):
    """Maps a domain value to a pixel coordinate and proposes ticks."""

    @property
    def kind(self) -> str: ...

    @property
    def start(self) -> float: ...

    @property
    def end(self) -> float: ...

    def __call__(self, value: float) -> float: ...

    def ticks(self) -> list[float]: ...


@dataclass(frozen=True)
class LinearScale:
    """``lo..hi`` onto ``start..end`` (pixels; ``start > end`` for an upward y axis), values clamped."""

    lo: float
    hi: float
    start: float
    end: float
    count: int = 5
    """Roughly how many tick intervals to propose."""
    kind: str = "linear"

    def __call__(self, value: float) -> float:
        span = self.hi - self.lo
        t = 0.0 if span == 0 else (min(self.hi, max(self.lo, value)) - self.lo) / span
        return self.start + t * (self.end - self.start)

    def ticks(self) -> list[float]:
        step = nice_step(self.hi - self.lo, self.count)
        first = math.ceil(self.lo / step - 1e-9)
        last = math.floor(self.hi / step + 1e-9)
        return [round(i * step, 12) for i in range(first, last + 1)]


@dataclass(frozen=True)
class LogScale:
    """``lo..hi`` (both > 0) onto ``start..end`` on a log10 axis, values clamped."""

    lo: float
    hi: float
    start: float
    end: float
    kind: str = "log"

    def __call__(self, value: float) -> float:
        lo, hi = math.log10(self.lo), math.log10(self.hi)
        v = math.log10(min(self.hi, max(self.lo, value)))
        return self.start + (v - lo) / (hi - lo) * (self.end - self.start)

    def ticks(self) -> list[float]:
        first, last = round(math.log10(self.lo)), round(math.log10(self.hi))
        return [10.0**e for e in range(first, last + 1)]


def nice_step(span: float, count: int = 5) -> float:
    """A 1, 2 or 5 times a power of ten step that cuts ``span`` into about ``count`` intervals."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / max(1, count)
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 5.0, 10.0):
        if raw <= factor * power * (1 + 1e-9):
            return factor * power
    return 10.0 * power


def nice_ceiling(value: float, count: int = 5) -> float:
    """The smallest multiple of the nice step for ``0..value`` that is >= ``value`` (1.0 for 0)."""
    if value <= 0:
        return 1.0
    step = nice_step(value, count)
    return math.ceil(value / step - 1e-9) * step


def wants_log(values: Sequence[float]) -> bool:
    """Whether ``values`` span more than ``LOG_DECADES`` decades (only possible when all are > 0)."""
    if not values or min(values) <= 0:
        return False
    return math.log10(max(values) / min(values)) > LOG_DECADES


def choose_scale(values: Sequence[float], start: float, end: float) -> LinearScale | LogScale:
    """A log scale over whole decades when ``values`` span more than two; else linear from 0."""
    if wants_log(values):
        lo = 10.0 ** math.floor(math.log10(min(values)) + 1e-9)
        hi = 10.0 ** math.ceil(math.log10(max(values)) - 1e-9)
        return LogScale(lo, hi, start, end)
    top = max(values, default=0.0)
    return LinearScale(0.0, nice_ceiling(top), start, end)


def compact(value: float) -> str:
    """A tick label: ``0``, ``0.005``, ``2.5``, ``40``, ``1.2k``, ``3M`` (three significant digits)."""
    if value == 0:
        return "0"
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g}{suffix}"
    return f"{value:.3g}" if abs(value) >= 1e-3 else f"{value:.0e}"


def percent(rate: float, digits: int = 1) -> str:
    """``0.625`` -> ``62.5 %`` (the space before % as on the seed pages)."""
    return f"{rate * 100:.{digits}f} %"
