"""Signed download links of data archives: they expire, and open only for an owner or
admin of the archive's organisation.

The link carries the archive's id and organisation, signed with the secret key
(``django.core.signing``); the download also requires a logged-in owner or admin of
that organisation, so a forwarded link is useless to anyone else and after it expires.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core import signing
from django.urls import reverse
from django.utils import timezone

from pymetrics.common.errors import Gone, NotFound
from pymetrics.privacy.models import CandidateArchive

#: How long one issued link works (never beyond the archive's own expiry).
LINK_TTL = timedelta(hours=24)
_SALT = "pymetrics.privacy.archive-download"


def archive_download_token(archive: CandidateArchive) -> str:
    return signing.dumps({"a": archive.pk, "o": archive.organization_id}, salt=_SALT)


def archive_download_path(archive: CandidateArchive) -> str:
    return reverse("privacy:archive-download", args=[archive_download_token(archive)])


def link_expires_at(archive: CandidateArchive, now: datetime | None = None) -> datetime:
    expires = (now or timezone.now()) + LINK_TTL
    if archive.expires_at is not None:
        expires = min(expires, archive.expires_at)
    return expires


def archive_id_from_token(token: str, *, organization_id: int) -> int:
    """The archive a link names, if the link is genuine, current and of this organisation.

    Gone when it expired, NotFound when it was tampered with or names another
    organisation's archive (exactly like an unknown one).
    """
    try:
        payload = signing.loads(token, salt=_SALT, max_age=LINK_TTL)
    except signing.SignatureExpired:
        raise Gone(
            "this download link has expired: ask for the data export again",
            code="link_expired",
        ) from None
    except signing.BadSignature:
        raise NotFound("this download link is not valid") from None
    if not isinstance(payload, dict) or payload.get("o") != organization_id:
        raise NotFound("this download link is not valid")
    return int(payload["a"])
