"""What a server process does once Django is set up, before it answers anyone.

Importing every view (through the URL configuration) up front, then moving all
that was loaded out of the collector's reach (``gc.freeze``), keeps the cyclic
garbage collector's full passes short. Without it the modules the first requests
import (views, selectors, numpy through the statistics) stay tracked, and every
full pass walks them: measured by ``bench``, pauses of 20-60 ms in a web worker
every second or so, which were most of the API's p99 latency.
"""

from __future__ import annotations

import gc

from django.urls import URLPattern, URLResolver, get_resolver


def _load(patterns: list[URLPattern | URLResolver]) -> None:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _load(pattern.url_patterns)


def prepare_server_process() -> None:
    """Import every URL configuration and view, then freeze what is loaded."""
    resolver = get_resolver()
    _load(resolver.url_patterns)
    resolver.reverse_dict  # noqa: B018 - populates the resolver's lookup tables now
    gc.collect()
    gc.freeze()
