"""How data archives and consent records are shown: to the panel's script and the API."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from pymetrics.assessments.models import ConsentChannel, ConsentPurpose, ConsentRecord
from pymetrics.privacy.links import archive_download_path, link_expires_at
from pymetrics.privacy.models import ArchiveState, CandidateArchive, ErasureReason

ARCHIVE_STATE_LABELS = {
    ArchiveState.QUEUED: gettext_lazy("Queued"),
    ArchiveState.RUNNING: gettext_lazy("Being built"),
    ArchiveState.READY: gettext_lazy("Ready to download"),
    ArchiveState.FAILED: gettext_lazy("Failed"),
    ArchiveState.EXPIRED: gettext_lazy("Expired (file deleted)"),
}
PURPOSE_LABELS = {
    ConsentPurpose.PARTICIPATION: gettext_lazy("Taking part in the assessment"),
    ConsentPurpose.RESULTS: gettext_lazy("Processing the results for the hiring decision"),
}
CHANNEL_LABELS = {
    ConsentChannel.INVITE_PAGES: gettext_lazy("invitation's consent page"),
    ConsentChannel.API: gettext_lazy("an API client's own consent screen"),
}
REASON_LABELS = {
    ErasureReason.CANDIDATE_REQUEST: gettext_lazy("The candidate asked to be erased"),
    ErasureReason.CONSENT_WITHDRAWN: gettext_lazy("The candidate withdrew their consent"),
    ErasureReason.RETENTION: gettext_lazy("The retention period ended"),
    ErasureReason.ORGANISATION: gettext_lazy("The organisation decided to erase the data"),
}


def label(labels: dict[Any, Any], key: str) -> str:
    return str(labels.get(key, key))


def archive_payload(archive: CandidateArchive) -> dict[str, Any]:
    """An archive job's state; with a freshly signed download link once it is ready.

    Times stay datetimes: the JSON encoders (Django's, DRF's) write them in ISO 8601.
    """
    ready = archive.state == ArchiveState.READY and bool(archive.file_name)
    return {
        "id": archive.pk,
        "candidate_id": archive.candidate_id,
        "state": archive.state,
        "state_label": label(ARCHIVE_STATE_LABELS, archive.state),
        "progress": archive.progress,
        "message": archive.message,
        "error": archive.error,
        "finished": archive.state not in (ArchiveState.QUEUED, ArchiveState.RUNNING),
        "size_bytes": archive.size_bytes,
        "sha256": archive.sha256 or None,
        "created_at": archive.created_at,
        "finished_at": archive.finished_at,
        "expires_at": archive.expires_at,
        "download_url": archive_download_path(archive) if ready else None,
        "link_expires_at": link_expires_at(archive) if ready else None,
    }


def consent_record_payload(record: ConsentRecord) -> dict[str, Any]:
    return {
        "id": record.pk,
        "attempt_id": record.attempt_id,
        "assessment": record.attempt.assessment.name,
        "purpose": record.purpose,
        "channel": record.channel,
        "text_version": record.text_version,
        "text_sha256": record.text_sha256 or None,
        "language": record.language,
        "given_at": record.given_at,
        "withdrawn_at": record.withdrawn_at,
    }
