"""Client for the fulfilment partner's REST API."""

from partnerapi.client import PartnerClient
from partnerapi.errors import PartnerError, RetryExhausted
from partnerapi.retry import RetryPolicy, parse_retry_after
from partnerapi.transport import Response

__all__ = ["PartnerClient", "PartnerError", "Response", "RetryExhausted", "RetryPolicy", "parse_retry_after"]
