"""Logging staff users in from tests, two-factor step included.

Owners and admins reach nothing before their session is verified, so tests log
them in the way django-otp marks a verified session: the persistent id of a
confirmed TOTP device under ``django_otp.DEVICE_ID_SESSION_KEY``.
"""

from __future__ import annotations

import time

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from pymetrics.accounts.middleware import AUTH_AT_SESSION_KEY, SEEN_AT_SESSION_KEY
from pymetrics.accounts.models import User
from pymetrics.accounts.twofactor import DEVICE_NAME

#: A fixed TOTP secret (hex) for the devices tests make, so they can type codes.
TEST_TOTP_KEY = "3132333435363738393031323334353637383930"


def confirmed_totp_device(user: User, *, key: str = TEST_TOTP_KEY) -> TOTPDevice:
    """The user's confirmed device, made with ``key`` when they have none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, key=key, confirmed=True)
    return device


def current_code(device: TOTPDevice) -> str:
    """The device's code for this 30-second step, as the user's app shows it (6 digits)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def login_verified(client: Client, user: User) -> TOTPDevice:
    """Log ``user`` in on ``client`` with a session verified by their (new) TOTP device."""
    device = confirmed_totp_device(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    # as the log-in page does: the session's start, for its idle and absolute limits
    now = int(time.time())
    session[AUTH_AT_SESSION_KEY] = now
    session[SEEN_AT_SESSION_KEY] = now
    session.save()
    return device
