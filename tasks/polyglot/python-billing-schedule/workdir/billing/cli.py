"""Print a subscription's renewal dates: python3 -m billing.cli ANCHOR INTERVAL COUNT."""

from __future__ import annotations

import argparse
from datetime import date

from billing.plans import Interval
from billing.schedule import renewal_dates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("anchor", type=date.fromisoformat)
    parser.add_argument("interval", choices=[i.value for i in Interval])
    parser.add_argument("count", type=int)
    args = parser.parse_args(argv)
    for d in renewal_dates(args.anchor, Interval(args.interval), args.count):
        print(d.isoformat())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
