"""Heartbeat for sockets that mostly listen: one sweep per interval for all of them.

Every ``interval`` seconds the sweeper pings each registered socket and closes
(code 4408) those it heard nothing from for two intervals in a row. One task per
event loop, however many sockets: a dashboard server holds thousands.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Protocol

logger = logging.getLogger(__name__)


class Heartbeating(Protocol):
    #: set by the socket whenever the client sends anything
    heard: bool
    silent_ticks: int

    async def heartbeat_ping(self) -> None: ...

    async def heartbeat_expire(self) -> None: ...


class HeartbeatSweeper:
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.members: set[Heartbeating] = set()
        self._task: asyncio.Task[None] | None = None

    def add(self, member: Heartbeating) -> None:
        member.heard = False
        member.silent_ticks = 0
        self.members.add(member)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._sweep())

    def discard(self, member: Heartbeating) -> None:
        self.members.discard(member)

    async def _sweep(self) -> None:
        while self.members:
            await asyncio.sleep(self.interval)
            await self.tick()

    #: sockets handled between two yields to the event loop: a sweep of thousands
    #: must not hold up, for its whole length, the notices other tasks deliver
    SLICE = 200

    async def tick(self) -> None:
        """One interval: count silence, close the sockets silent for two, ping the rest."""
        for position, member in enumerate(list(self.members)):
            if position and position % self.SLICE == 0:
                await asyncio.sleep(0)
            if member not in self.members:
                continue  # disconnected during the sweep
            member.silent_ticks = 0 if member.heard else member.silent_ticks + 1
            member.heard = False
            try:
                if member.silent_ticks >= 2:
                    self.members.discard(member)
                    await member.heartbeat_expire()
                else:
                    await member.heartbeat_ping()
            except Exception:
                logger.debug("heartbeat: a socket could not be pinged or closed", exc_info=True)


_sweepers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[float, HeartbeatSweeper]] = (
    weakref.WeakKeyDictionary()
)


def heartbeat_sweeper(interval: float) -> HeartbeatSweeper:
    """The running loop's sweeper for this interval (one per loop and interval)."""
    by_interval = _sweepers.setdefault(asyncio.get_running_loop(), {})
    sweeper = by_interval.get(interval)
    if sweeper is None:
        sweeper = by_interval[interval] = HeartbeatSweeper(interval)
    return sweeper
