"""Signed download links of finished exports: the job id, signed with a timestamp.

A link is ``/staff/exports/download/<token>/``, the token being the job id signed
by :class:`~django.core.signing.TimestampSigner` with the secret key and a salt of
its own (so no other signed value of the platform passes for one). It is valid for
``PYMETRICS_EXPORT_LINK_MAX_AGE_S`` seconds after it was made (an hour unless set);
pages and the API make a fresh one each time they show a finished job. The link
alone is not enough: the download view also wants a member of the job's
organisation allowed to export its dataset.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

SALT = "pymetrics.reports.exports.download"
#: How long a download link works unless PYMETRICS_EXPORT_LINK_MAX_AGE_S says otherwise.
DEFAULT_LINK_MAX_AGE_S = 3600


class LinkExpired(Exception):
    """The link was signed correctly, longer ago than the links' lifetime."""


class LinkInvalid(Exception):
    """The link was not made by this platform (tampered with, or from elsewhere)."""


def link_max_age_s() -> int:
    return int(getattr(settings, "PYMETRICS_EXPORT_LINK_MAX_AGE_S", DEFAULT_LINK_MAX_AGE_S))


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def download_path(export_job_id: int) -> str:
    """A fresh signed link (path) to download the job's file."""
    return reverse("exports:download", args=[_signer().sign(str(export_job_id))])


def download_link_expires_at(made_at: datetime | None = None) -> datetime:
    return (made_at or timezone.now()) + timedelta(seconds=link_max_age_s())


def export_job_id_from_token(token: str) -> int:
    """The job id a link names, or LinkExpired / LinkInvalid."""
    try:
        value = _signer().unsign(token, max_age=link_max_age_s())
    except signing.SignatureExpired as error:
        raise LinkExpired(str(error)) from None
    except signing.BadSignature as error:
        raise LinkInvalid(str(error)) from None
    if not value.isascii() or not value.isdigit():
        raise LinkInvalid("the signed value is not a job id")
    return int(value)
