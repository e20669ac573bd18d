"""Limits shared by every WebSocket consumer (DESIGN.md 4.4): size, rate, close codes.

A socket has no status line, so refusals are close codes in the 4000-4999 range
that applications may use; they mirror the HTTP status of the same refusal
(4401 ~ 401, 4413 ~ 413 ...) so a client can share its error handling.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Hashable
from dataclasses import dataclass

#: One message may hold at most this many bytes (UTF-8), like one HTTP request body.
MAX_MESSAGE_BYTES = 1024 * 1024

CLOSE_NORMAL = 1000
CLOSE_INVALID = 4400
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
#: The client sent nothing for two heartbeat intervals (~ HTTP 408 Request Timeout).
#: Not 1001 "going away", which says the *server* is leaving (shutdown, restart).
CLOSE_IDLE = 4408
#: A newer socket of the same game session took over (~ HTTP 409 Conflict).
CLOSE_REPLACED = 4409
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


@dataclass(frozen=True)
class Admission:
    """What :meth:`OpenSockets.acquire` decided for a new socket."""

    #: the key at its limit that refused the socket (None: admitted)
    refused: str | None = None
    #: the older sockets the new one replaces: the caller closes them (never itself)
    replaced: tuple[Hashable, ...] = ()


class OpenSockets:
    """Which sockets are open at once per key (a game session, a client address).

    Counted in the memory of one socket server process: a socket lives in one
    process, so counting there is exact and nothing is left behind when a process
    dies. With several server processes a client may hold up to the limit in each
    (docs/security.md). The consumers run on one event loop and ``acquire`` /
    ``release`` never await, so no lock is needed.

    A key in ``replace`` (a game session) lets the newest socket in: the oldest
    sockets on it make room. A candidate whose network drops reconnects before the
    server has noticed the dead socket, and the newest connection is the live one.
    Any other key at its limit (an address) refuses the new socket.
    """

    def __init__(self) -> None:
        self._open: dict[str, list[Hashable]] = {}
        self._keys: dict[Hashable, tuple[str, ...]] = {}

    def acquire(
        self, holder: Hashable, limits: dict[str, int], *, replace: Collection[str] = ()
    ) -> Admission:
        """Count ``holder`` on every key, or on none and name the key that refused it."""
        replaced: list[Hashable] = []
        for key, limit in limits.items():
            holders = self._open.get(key, [])
            if len(holders) < limit:
                continue
            if key not in replace:
                return Admission(refused=key)
            replaced.extend(holders[: len(holders) - limit + 1])
        for old in replaced:
            self.release(old)
        for key in limits:
            self._open.setdefault(key, []).append(holder)
        self._keys[holder] = tuple(limits)
        return Admission(replaced=tuple(dict.fromkeys(replaced)))

    def release(self, holder: Hashable) -> None:
        """Forget ``holder`` on every key it counts on (nothing if it counts on none)."""
        for key in self._keys.pop(holder, ()):
            holders = self._open.get(key, [])
            if holder in holders:
                holders.remove(holder)
            if not holders:
                self._open.pop(key, None)

    def holders(self) -> list[Hashable]:
        """Every socket counted now, oldest first."""
        return list(self._keys)

    def count(self, key: str) -> int:
        return len(self._open.get(key, ()))
