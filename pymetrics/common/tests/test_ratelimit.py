"""The shared rate limiter: rates, fixed windows, atomic counting, failing open."""

from __future__ import annotations

import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.exceptions import Throttled

from config.env import DEFAULT_RATE_LIMITS, ConfigurationError, load
from pymetrics.common import ratelimit
from pymetrics.common.errors import NotFound
from pymetrics.common.ratelimit import Rate, RateLimited

BASE = Path(__file__).resolve().parents[3]
ENV = {
    "DJANGO_SECRET_KEY": "x" * 60,
    "PYMETRICS_ENCRYPTION_KEYS": "dGVzdC1lbmNyeXB0aW9uLWtleS0wMTIzNDU2Nzg5YWI=",
    "DJANGO_ALLOWED_HOSTS": "example.org",
}


@pytest.fixture
def limits(settings):
    """Small limits the tests can reach."""
    settings.PYMETRICS_RATE_LIMITS = {"tiny": Rate(3, 60), "other": Rate(1, 3600)}
    settings.PYMETRICS_RATE_LIMITS_ENABLED = True
    return settings.PYMETRICS_RATE_LIMITS


@pytest.mark.parametrize(
    ("text", "limit", "period"),
    [("30/m", 30, 60), ("10/h", 10, 3600), ("20/10m", 20, 600), ("5/s", 5, 1), ("1/d", 1, 86400)],
)
def test_rates_parse_count_and_period(text, limit, period):
    rate = Rate.parse(text)
    assert (rate.limit, rate.period_s) == (limit, period)
    assert Rate.parse(str(rate)) == rate


@pytest.mark.parametrize("text", ["", "30", "0/m", "30/0m", "30/w", "m/30", "-1/m"])
def test_malformed_rates_are_refused(text):
    with pytest.raises(ValueError, match=r"expected <count>/<period>|at least 1"):
        Rate.parse(text)


def test_every_default_rate_is_valid():
    assert {name: str(Rate.parse(text)) for name, text in DEFAULT_RATE_LIMITS.items()} == {
        "invite_ip": "600/m",
        "invite_miss_ip": "20/10m",
        "events_session": "600/m",
        "events_ip": "6000/m",
        "socket_open_session": "60/m",
        "socket_open_ip": "1200/m",
        "exports_user": "10/h",
        "exports_org": "50/h",
        "archives_user": "10/h",
        "archives_org": "50/h",
        "report_pdf_token": "10/10m",
        "report_pdf_ip": "30/10m",
    }


def test_hits_are_counted_per_identity_until_the_limit_then_refused(limits):
    at = 1_000_040.0  # 20 s into a minute window (60 * 16667 = 1_000_020)

    decisions = [ratelimit.hit("tiny", "10.0.0.1", clock=lambda: at) for _ in range(4)]

    assert [(d.allowed, d.count) for d in decisions] == [
        (True, 1),
        (True, 2),
        (True, 3),
        (False, 4),
    ]
    # the window ends 40 s later: that is when to try again
    assert decisions[-1].retry_after_s == 40
    # another address, and another limit, have their own counters
    assert ratelimit.hit("tiny", "10.0.0.2", clock=lambda: at).count == 1
    assert ratelimit.hit("other", "10.0.0.1", clock=lambda: at).count == 1


def test_a_new_window_starts_from_zero(limits):
    for _ in range(4):
        ratelimit.hit("tiny", "10.0.0.1", clock=lambda: 1_000_040.0)

    later = ratelimit.hit("tiny", "10.0.0.1", clock=lambda: 1_000_090.0)

    assert (later.allowed, later.count) == (True, 1)


def test_peek_reads_without_counting(limits):
    for _ in range(3):
        ratelimit.hit("tiny", "10.0.0.1")

    assert ratelimit.peek("tiny", "10.0.0.1").allowed is False
    assert ratelimit.peek("tiny", "10.0.0.1").count == 3
    assert ratelimit.peek("tiny", "10.0.0.9").allowed is True


def test_no_identity_and_disabled_limits_count_nothing(limits, settings):
    assert all(ratelimit.hit("tiny", None).allowed for _ in range(10))
    assert all(ratelimit.hit("tiny", "").allowed for _ in range(10))
    settings.PYMETRICS_RATE_LIMITS_ENABLED = False
    assert all(ratelimit.hit("tiny", "10.0.0.1").allowed for _ in range(10))


def test_keys_hold_no_identity_in_clear(limits, monkeypatch):
    local = LocMemCache("ratelimit-keys", {})
    monkeypatch.setattr(ratelimit, "cache", local)
    ratelimit.hit("tiny", "secret-invite-token")

    keys = list(local._cache)  # type: ignore[attr-defined]
    assert len(keys) == 1
    assert "secret-invite-token" not in keys[0]
    assert ":ratelimit:tiny:" in keys[0]


def test_enforce_all_stops_counting_at_the_first_limit_over(limits):
    ratelimit.enforce_all(("other", "a"), ("tiny", "a"))

    with pytest.raises(RateLimited) as refused:
        ratelimit.enforce_all(("other", "a"), ("tiny", "a"))

    assert refused.value.name == "other"
    assert 1 <= refused.value.retry_after_s <= 3600
    # the refused request did not use the second limit's allowance
    assert ratelimit.peek("tiny", "a").count == 1
    assert ratelimit.peek("other", "a").count == 2


def test_invite_lookup_counts_misses_and_refuses_before_looking(settings):
    settings.PYMETRICS_RATE_LIMITS = {"invite_ip": Rate(100, 60), "invite_miss_ip": Rate(2, 600)}
    looked: list[str] = []

    def unknown() -> str:
        looked.append("x")
        raise NotFound("no such invitation")

    for _ in range(2):
        with pytest.raises(NotFound):
            ratelimit.invite_lookup("10.0.0.1", unknown)
    # two misses used the allowance: the next lookup is refused without a query
    with pytest.raises(RateLimited) as refused:
        ratelimit.invite_lookup("10.0.0.1", lambda: "found")

    assert len(looked) == 2
    assert refused.value.name == "invite_miss_ip"
    assert 1 <= refused.value.retry_after_s <= 600
    # another address is not affected
    assert ratelimit.invite_lookup("10.0.0.2", lambda: "found") == "found"


def test_throttled_carries_the_wait_and_a_message():
    error = ratelimit.throttled(RateLimited("tiny", 17))

    assert isinstance(error, Throttled)
    assert error.wait == 17
    assert str(error.detail) == "too many requests; try again in 17 seconds"


def test_an_unreachable_cache_lets_requests_through(limits, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "add", broken)
    monkeypatch.setattr(cache, "get", broken)

    assert all(ratelimit.hit("tiny", "10.0.0.1").allowed for _ in range(5))
    assert ratelimit.peek("tiny", "10.0.0.1").allowed
    assert "the cache is unavailable" in caplog.text


def test_concurrent_hits_are_all_counted_in_process(limits, monkeypatch):
    local = LocMemCache("ratelimit-threads", {})
    monkeypatch.setattr(ratelimit, "cache", local)
    barrier = threading.Barrier(8)

    def burst() -> None:
        barrier.wait()
        for _ in range(50):
            ratelimit.hit("other", "shared")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: burst(), range(8)))

    assert ratelimit.peek("other", "shared").count == 400


REDIS_URL = os.environ.get("PYMETRICS_TEST_REDIS_URL") or os.environ.get("REDIS_URL")


@pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL (redis://host:port/db)")
def test_concurrent_hits_are_all_counted_on_redis(limits, monkeypatch):
    from django_redis.cache import RedisCache

    assert REDIS_URL is not None
    redis_cache = RedisCache(
        REDIS_URL, {"OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"}}
    )
    monkeypatch.setattr(ratelimit, "cache", redis_cache)
    identity = f"shared-{uuid.uuid4().hex}"  # a key of its own: nothing else is cleared

    def burst(_: int) -> list[int]:
        return [ratelimit.hit("other", identity).count for _ in range(25)]

    with ThreadPoolExecutor(8) as pool:
        counts = sorted(c for batch in pool.map(burst, range(8)) for c in batch)

    # INCRBY is atomic: every hit got its own number, none was lost
    assert counts == list(range(1, 201))


# --- configuration ------------------------------------------------------------------------


def test_the_environment_overrides_named_limits():
    env = load(
        {**ENV, "PYMETRICS_RATE_LIMITS": "events_ip=20000/m, exports_user=20/h"}, base_dir=BASE
    )

    assert env.rate_limits is not None
    assert env.rate_limits["events_ip"] == "20000/m"
    assert env.rate_limits["exports_user"] == "20/h"
    assert env.rate_limits["invite_ip"] == DEFAULT_RATE_LIMITS["invite_ip"]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("nonsense_limit=1/m", "expected name=rate items"),
        ("events_ip", "expected name=rate items"),
        ("events_ip=lots", "events_ip: expected <count>/<period>"),
        ("events_ip=0/m", "events_ip: expected <count>/<period>"),
        ("events_ip=10/0m", "events_ip: expected <count>/<period>"),
    ],
)
def test_malformed_overrides_fail_at_start_up_naming_the_variable(value, problem):
    with pytest.raises(ConfigurationError) as error:
        load({**ENV, "PYMETRICS_RATE_LIMITS": value}, base_dir=BASE)

    assert error.value.variable == "PYMETRICS_RATE_LIMITS"
    assert problem in str(error.value)


def test_https_settings_come_from_the_environment():
    env = load(
        {
            **ENV,
            "DJANGO_SECURE_HSTS_SECONDS": "31536000",
            "DJANGO_SECURE_HSTS_PRELOAD": "1",
            "DJANGO_SECURE_SSL_REDIRECT": "true",
            "DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
            "PYMETRICS_SOCKETS_PER_SESSION": "2",
            "PYMETRICS_INVITE_TTL_DAYS": "14",
        },
        base_dir=BASE,
    )

    assert (env.hsts_seconds, env.hsts_include_subdomains, env.hsts_preload) == (
        31536000,
        True,
        True,
    )
    assert env.ssl_redirect is True
    assert env.proxy_ssl_header == ("HTTP_X_FORWARDED_PROTO", "https")
    assert (env.sockets_per_session, env.sockets_per_ip) == (2, 1000)
    assert env.invite_ttl_days == 14


def test_a_malformed_proxy_header_is_refused():
    with pytest.raises(ConfigurationError) as error:
        load({**ENV, "DJANGO_SECURE_PROXY_SSL_HEADER": "X Forwarded: https"}, base_dir=BASE)

    assert error.value.variable == "DJANGO_SECURE_PROXY_SSL_HEADER"
