"""Limits shared by every WebSocket consumer (DESIGN.md 4.4): size, rate, close codes.

A socket has no status line, so refusals are close codes in the 4000-4999 range
that applications may use; they mirror the HTTP status of the same refusal
(4401 ~ 401, 4413 ~ 413 ...) so a client can share its error handling.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

#: One message may hold at most this many bytes (UTF-8), like one HTTP request body.
MAX_MESSAGE_BYTES = 1024 * 1024

CLOSE_NORMAL = 1000
CLOSE_INVALID = 4400
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
#: The client sent nothing for two heartbeat intervals (~ HTTP 408 Request Timeout).
#: Not 1001 "going away", which says the *server* is leaving (shutdown, restart).
CLOSE_IDLE = 4408
CLOSE_TOO_LARGE = 4413
CLOSE_RATE_LIMITED = 4429


def message_too_large(text: str, limit: int = MAX_MESSAGE_BYTES) -> bool:
    """Whether ``text`` is over ``limit`` bytes in UTF-8, without encoding it when obvious.

    A character is 1 to 4 bytes, so the length in characters bounds the byte length.
    """
    if len(text) > limit:
        return True
    if len(text) * 4 <= limit:
        return False
    return len(text.encode("utf-8", "surrogatepass")) > limit


class RateLimiter:
    """Token bucket: ``rate`` messages per second sustained, bursts of up to ``burst``.

    Per connection and in memory: a socket lives in one process, so no shared
    store is needed. ``clock`` is injectable so tests need not sleep.
    """

    def __init__(
        self,
        *,
        rate: float = 20.0,
        burst: float = 40.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._last = clock()

    def allow(self) -> bool:
        """Take one token if there is one; False means the caller is over the limit."""
        now = self._clock()
        elapsed = max(0.0, now - self._last)
        self._last = now
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class OpenSockets:
    """How many sockets are open at once per key (a game session, a client address).

    Counted in the memory of one socket server process: a socket lives in one
    process, so counting there is exact and nothing is left behind when a process
    dies. With several server processes a client may hold up to the limit in each
    (docs/security.md). The consumers run on one event loop and ``acquire`` /
    ``release`` never await, so no lock is needed.
    """

    def __init__(self) -> None:
        self._open: dict[str, int] = {}

    def acquire(self, limits: dict[str, int]) -> str | None:
        """Count one more socket on every key, or none and the first key at its limit."""
        for key, limit in limits.items():
            if self._open.get(key, 0) >= limit:
                return key
        for key in limits:
            self._open[key] = self._open.get(key, 0) + 1
        return None

    def release(self, keys: Iterable[str]) -> None:
        for key in keys:
            left = self._open.get(key, 0) - 1
            if left > 0:
                self._open[key] = left
            else:
                self._open.pop(key, None)

    def count(self, key: str) -> int:
        return self._open.get(key, 0)
