"""Requests limited per API key (OWASP API4:2023, unrestricted resource
consumption): a token bucket for each key, refilled at ``rate`` a second up to
``burst``. A request beyond it is answered 429 with ``Retry-After``.

The buckets live in the serving process: with several workers, each has its
own, so a key's limit is per worker (docs/security.md)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from socialcredit.errors import SocialCreditError, UsageError

RATE_LIMIT_ENV = "SOCIALCREDIT_RATE_LIMIT"  # "RATE/s", "RATE/s,BURST" or "off"
DEFAULT_RATE = 1000.0  # requests a second a key may sustain
DEFAULT_BURST = 2000


class RateLimited(SocialCreditError):
    """Too many requests for one key; ``retry_after`` seconds until the next is taken."""

    def __init__(self, key_id: str, retry_after: int) -> None:
        super().__init__(
            f"the key {key_id} sent more requests than its limit: try again in {retry_after} s"
        )
        self.retry_after = retry_after


@dataclass(frozen=True)
class RateLimit:
    rate: float  # tokens a second
    burst: int  # the bucket's size

    @classmethod
    def parse(cls, text: str) -> RateLimit | None:
        """``100/s`` or ``100/s,300``; ``off`` for none. A clear error otherwise."""
        if text.strip().lower() == "off":
            return None
        rate_text, _, burst_text = text.partition(",")
        number, per = rate_text.strip().partition("/")[::2]
        try:
            rate = float(number)
            burst = int(burst_text) if burst_text.strip() else math.ceil(rate * 2)
        except (ValueError, OverflowError):
            rate = burst = 0
        if per.strip() != "s" or rate <= 0 or burst < 1 or not math.isfinite(rate):
            raise UsageError(
                f"rate limit: {text!r} is not RATE/s or RATE/s,BURST (e.g. 100/s,200) or off"
            )
        return cls(rate, burst)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RateLimit | None:
        found = env.get(RATE_LIMIT_ENV)
        return cls.parse(found) if found else cls(DEFAULT_RATE, DEFAULT_BURST)


class KeyLimiter:
    """One bucket a key. Called from the event loop only: no lock needed."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, when)

    def take(self, key_id: str) -> None:
        """Spend one token of ``key_id``'s bucket, or :class:`RateLimited`."""
        now = self._clock()
        tokens, when = self._buckets.get(key_id, (float(self.limit.burst), now))
        tokens = min(float(self.limit.burst), tokens + (now - when) * self.limit.rate)
        if tokens < 1.0:
            self._buckets[key_id] = (tokens, now)
            raise RateLimited(key_id, max(1, math.ceil((1.0 - tokens) / self.limit.rate)))
        self._buckets[key_id] = (tokens - 1.0, now)


__all__ = ["RATE_LIMIT_ENV", "KeyLimiter", "RateLimit", "RateLimited"]
