"""The client's address behind trusted reverse proxies (rate limits and lockout count by it)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from pymetrics.accounts.permissions import client_ip


def _request(forwarded: str | None):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5")
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return request


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        # no proxy trusted: the header is the client's own words
        (0, "198.51.100.9", "10.0.0.5"),
        # one proxy: the address it saw is the last entry, whatever the client wrote first
        (1, "198.51.100.9", "198.51.100.9"),
        (1, "203.0.113.66, 198.51.100.9", "198.51.100.9"),
        # two proxies: the outer one's entry is second from the end
        (2, "203.0.113.66, 198.51.100.9, 10.0.0.2", "198.51.100.9"),
        # a request that bypassed the proxies (too short a header, or none)
        (2, "198.51.100.9", "10.0.0.5"),
        (1, None, "10.0.0.5"),
        (1, " , ", "10.0.0.5"),
    ],
)
def test_the_client_is_as_many_entries_from_the_end_as_there_are_proxies(
    settings, hops, forwarded, expected
):
    settings.PYMETRICS_TRUSTED_PROXY_COUNT = hops

    assert client_ip(_request(forwarded)) == expected
