"""Live notices over Redis are kept apart per Redis database, like everything else."""

from __future__ import annotations

import asyncio
import os
from urllib.parse import urlsplit, urlunsplit

import pytest

from pymetrics.common import live
from pymetrics.common.live import channel_prefix


def test_the_channel_prefix_names_the_redis_database() -> None:
    assert channel_prefix("redis://127.0.0.1:6379/4") == "pymetrics:live:4:"
    assert channel_prefix("redis://127.0.0.1:6379") == "pymetrics:live:0:"
    assert channel_prefix("rediss://user:secret@cache.example:6380/12") == "pymetrics:live:12:"


def _on_database(url: str, database: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


class _Socket:
    def __init__(self) -> None:
        self.notices: list[str] = []

    async def live_notice(self, text: str) -> None:
        self.notices.append(text)


def test_a_notice_reaches_only_the_sockets_of_its_own_redis_database(settings) -> None:
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs REDIS_URL: notices cross processes through Redis")
    ours, theirs = _on_database(url, 14), _on_database(url, 15)

    async def scenario() -> tuple[list[str], list[str]]:
        here, there = _Socket(), _Socket()
        hub_here = live._Hub(asyncio.get_running_loop(), ours)
        hub_there = live._Hub(asyncio.get_running_loop(), theirs)
        await hub_here.join("dashboard.1", here)
        await hub_there.join("dashboard.1", there)
        settings.PYMETRICS_LIVE_REDIS_URL = ours
        for _ in range(100):  # until the subscriptions are in place
            live.live_publish("dashboard.1", {"type": "probe"})
            await asyncio.sleep(0.02)
            if here.notices:
                break
        live.live_publish("dashboard.1", {"type": "rate", "events_per_s": 3})
        await asyncio.sleep(0.3)
        await hub_here.leave("dashboard.1", here)
        await hub_there.leave("dashboard.1", there)
        return here.notices, there.notices

    here, there = asyncio.run(scenario())

    assert here[-1] == '{"type":"rate","events_per_s":3}'
    assert there == []
