"""Per-key write rate limit: a token bucket per API key, per process, refused with 429."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from graphql import GraphQLError

from projections import settings

RATE_ENV = settings.env_name("write_rate")
DEFAULT_RATE = settings.DEFAULTS.write_rate
CODE = "RATE_LIMITED"
_PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}


@dataclass(frozen=True)
class Rate:
    """`count` writes per `period` seconds; a burst of up to `count` is allowed."""

    count: int
    period: float

    def __str__(self) -> str:
        unit = next((u for u, s in _PERIODS.items() if s == self.period), f"{self.period:g}s")
        return f"{self.count}/{unit}"


def parse_rate(text: str) -> Rate | None:
    """'60/minute' (or /second, /hour); 'off' means no limit. A bad value names the variable."""
    text = text.strip().lower()
    if text in ("off", "none", "0"):
        return None
    count, _, unit = text.partition("/")
    if not count.isdigit() or int(count) < 1 or unit not in _PERIODS:
        raise ValueError(
            f"{RATE_ENV}: expected COUNT/second|minute|hour (e.g. {DEFAULT_RATE}) or off,"
            f" not {text!r}"
        )
    return Rate(int(count), _PERIODS[unit])


class RateLimited(GraphQLError):
    """A write refused because its key used up its rate; `retry_after` in whole seconds."""

    def __init__(self, rate: Rate, retry_after: int) -> None:
        super().__init__(
            f"too many writes with this API key (limit {rate}); retry in {retry_after} s",
            extensions={"code": CODE, "retryAfter": retry_after},
        )
        self.retry_after = retry_after


class WriteRateLimit:
    """A token bucket per key: `count` tokens, refilled at count/period per second."""

    def __init__(self, rate: Rate | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._lock = threading.Lock()
        # key id -> (tokens, when): one entry per editor key that wrote, so it stays small.
        self._buckets: dict[str, tuple[float, float]] = {}

    @classmethod
    def from_env(cls) -> WriteRateLimit:
        """The limit POLICY_TIMELINE_WRITE_RATE sets (default 60/minute)."""
        return cls(parse_rate(settings.current().write_rate))

    def take(self, key_id: str) -> float:
        """Spend one token of `key_id`: 0.0 when allowed, else seconds until one is free."""
        if self.rate is None:
            return 0.0
        per_second = self.rate.count / self.rate.period
        with self._lock:
            now = self._clock()
            tokens, since = self._buckets.get(key_id, (float(self.rate.count), now))
            tokens = min(float(self.rate.count), tokens + (now - since) * per_second)
            if tokens >= 1.0:
                self._buckets[key_id] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key_id] = (tokens, now)
            return (1.0 - tokens) / per_second

    def check(self, key_id: str, response: object = None) -> None:
        """Raise RateLimited (and make the HTTP answer 429 with Retry-After) when over."""
        wait = self.take(key_id)
        if wait <= 0.0:
            return
        assert self.rate is not None
        retry_after = max(1, math.ceil(wait))
        if response is not None and hasattr(response, "headers"):
            response.status_code = 429  # type: ignore[attr-defined]
            response.headers["Retry-After"] = str(retry_after)
        raise RateLimited(self.rate, retry_after)
