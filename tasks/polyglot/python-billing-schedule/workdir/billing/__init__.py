"""Subscription billing schedule: renewal dates, billing periods and proration."""

from billing.plans import Interval, Plan
from billing.schedule import billing_period, next_renewal, renewal_dates

__all__ = ["Interval", "Plan", "billing_period", "next_renewal", "renewal_dates"]
