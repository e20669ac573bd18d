"""Finding a model version from the command line: its id, or ``"<role> v<version>"``."""

from __future__ import annotations

import re

from django.core.management.base import CommandError

from pymetrics.fitmodels.models import FitModelVersion

_LABEL = re.compile(r"^(?P<role>.+?)\s+v(?P<version>\d+)$")


def model_version_from_argument(value: str, *, organization_slug: str | None) -> FitModelVersion:
    versions = FitModelVersion.objects.select_related("job_profile", "job_profile__organization")
    if organization_slug:
        versions = versions.filter(job_profile__organization__slug=organization_slug)
    text = value.strip()
    if text.isdigit():
        found = versions.filter(pk=int(text)).first()
    else:
        match = _LABEL.match(text)
        if match is None:
            raise CommandError(
                f"--model {value!r}: give a model version's id or '<role name> v<version>'"
            )
        candidates = list(
            versions.filter(job_profile__name=match["role"], version=int(match["version"]))[:2]
        )
        if len(candidates) > 1:
            raise CommandError(
                f"--model {value!r}: roles of that name exist in several organisations; "
                "add --org SLUG"
            )
        found = candidates[0] if candidates else None
    if found is None:
        raise CommandError(f"--model {value!r}: no such model version")
    return found
