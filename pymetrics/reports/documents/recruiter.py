"""The recruiter's report on one candidate: a PDF of the profile, with every version behind it.

What the profile page shows (traits with their 90% intervals against the
benchmark, fit per role, quality flags, every metric), laid out for print and
archiving, plus what a number needs to be reproduced later: the norm table
(name, version, population, simulated or not), the trait map and extractor
versions stored with each trait score, each job-fit model's version and
threshold, and when the report was made.

:func:`recruiter_report_render` reads, renders and audit-logs
(``report.recruiter.read``, object the candidate) each generation; the view only
sends what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from typing import Any

from django.template.defaultfilters import floatformat
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from pymetrics.accounts.services import Actor, audit_log_record
from pymetrics.analytics.stats.profiles import trait_bars
from pymetrics.assessments.models import AttemptState, GameSessionSource, GameSessionState
from pymetrics.games.quality import FLAG_DESCRIPTIONS
from pymetrics.games.registry import UnknownGameError, get_game
from pymetrics.reports.documents.labels import population_label
from pymetrics.reports.documents.pdf import pdf_from_html
from pymetrics.reports.documents.selectors import RecruiterRead, recruiter_report_read
from pymetrics.scoring.labels import pole_label, trait_label

#: The trait chart of each row, in SVG user units: width and the margin at each end.
CHART_WIDTH = 240.0
CHART_MARGIN = 8.0
#: Intervals are 90% intervals (SCIENCE.md section 2).
INTERVAL_PERCENT = 90


def number_text(value: float | None, digits: int = 2) -> str:
    """A number as the report prints it (rounded half up, localised); a dash for none."""
    return "—" if value is None else str(floatformat(value, digits))


def percentile_text(percentile: float | None, beyond: int | None = None) -> str:
    """A percentile to one decimal; below the 1st or above the 99th said as such."""
    if percentile is None:
        return "—"
    if beyond == -1:
        return "<1"
    if beyond == 1:
        return ">99"
    return number_text(percentile, 1)


def when_text(value: datetime | str | None) -> str:
    """A moment as the report prints it: to the minute, in the server's time zone, named."""
    if value is None or value == "":
        return "—"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


def chart_x(z: float, limit: float) -> float:
    """Where ``z`` goes on a row's chart whose axis runs from -limit to +limit."""
    share = (min(max(z, -limit), limit) + limit) / (2 * limit)
    return round(CHART_MARGIN + share * (CHART_WIDTH - 2 * CHART_MARGIN), 1)


def chart_axis(limit: float) -> list[dict[str, Any]]:
    """The whole-number ticks of the z axis, with their x."""
    whole = int(limit)
    return [{"z": z, "x": chart_x(float(z), limit)} for z in range(-whole, whole + 1)]


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _game_title(key: str) -> str:
    try:
        return _(get_game(key).title)
    except UnknownGameError:
        return key


def trait_rows(read: RecruiterRead) -> tuple[list[dict[str, Any]], float]:
    """The nine traits with numbers, interval chart geometry and versions; the axis limit."""
    traits = read.profile["traits"]
    limit = float(trait_bars([t if t["scored"] else None for t in traits])["limit"])
    rows = []
    for trait in traits:
        high_key, low_key = trait["poles"]
        versions = read.trait_versions.get(trait["trait"])
        row: dict[str, Any] = {
            "key": trait["trait"],
            "label": trait_label(trait["trait"]),
            "low_pole": pole_label(low_key),
            "high_pole": pole_label(high_key),
            "scored": trait["scored"],
            "reason": trait["reason"],
            "metrics_text": (
                f"{trait['metrics_present']}/{trait['metrics_total']}"
                if trait["metrics_total"] is not None
                else "—"
            ),
            "reliability": number_text(trait["reliability"], 2),
            "versions": versions,
            "extractors_text": ", ".join(
                f"{_game_title(game)} v{version}"
                for game, version in sorted((versions.extractors if versions else {}).items())
            ),
        }
        if trait["scored"]:
            row.update(
                {
                    "z": number_text(trait["z"]),
                    "z_low": number_text(trait["z_low"]),
                    "z_high": number_text(trait["z_high"]),
                    "percentile": percentile_text(trait["percentile"]),
                    "percentile_low": percentile_text(trait["percentile_low"]),
                    "percentile_high": percentile_text(trait["percentile_high"]),
                    "marker_x": chart_x(trait["z"], limit),
                    "band_x": chart_x(trait["z_low"], limit),
                    "band_width": round(
                        chart_x(trait["z_high"], limit) - chart_x(trait["z_low"], limit), 1
                    ),
                }
            )
        rows.append(row)
    return rows, limit


def fit_rows(profile: dict[str, Any]) -> list[dict[str, Any]]:
    """The latest attempt's fit to each role, by the role's active model."""
    return [
        {
            "role": fit["job_profile"]["name"],
            "score": number_text(fit["score"], 1),
            "threshold": number_text(fit["threshold"], -1),
            "passed": fit["passed"],
            "model_label": fit["model_version"]["label"],
            "model_version": fit["model_version"]["version"],
            "model_id": fit["model_version"]["id"],
            "simulated_training": fit["model_version"]["simulated_training"],
            "arm": fit["arm"],
            "computed_text": when_text(fit["computed_at"]),
        }
        for fit in profile["fit"]
    ]


def game_sections(read: RecruiterRead) -> list[dict[str, Any]]:
    """Each game of the latest attempt: state, versions, flags with reasons, metrics."""
    sections = []
    for game in read.profile["games"]:
        sections.append(
            {
                "key": game["game"],
                "title": _game_title(game["game"]),
                "session_id": game["session_id"],
                "state": _label(GameSessionState, game["state"]),
                "source": _label(GameSessionSource, game["source"]),
                "simulated_source": game["source"] == GameSessionSource.SIMULATED,
                "extractor_version": game["extractor_version"],
                "completed_text": when_text(game["completed_at"]),
                "invalidated_at": read.invalidated.get(game["session_id"]),
                "flags": [
                    {"code": code, "reason": _(FLAG_DESCRIPTIONS.get(code, code))}
                    for code in game["flags"]
                ],
                "metrics": [
                    {
                        "name": metric["name"],
                        "description": metric["description"],
                        "unit": metric["unit"],
                        # as the profile page prints them
                        "value": number_text(metric["value"], -2),
                        "z": number_text(metric["z"]),
                        "percentile": percentile_text(metric["percentile"], metric["beyond"]),
                        "not_normed": metric["value"] is not None and not metric["normed"],
                    }
                    for metric in game["metrics"]
                ],
            }
        )
    return sections


def software_version() -> str:
    try:
        return metadata.version("django-pymetrics")
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        return "unknown"


def recruiter_report_context(
    read: RecruiterRead, *, organization_name: str, generated_at: datetime
) -> dict[str, Any]:
    """What ``reports/documents/recruiter.html`` prints."""
    profile = read.profile
    candidate = read.candidate
    attempt = profile["attempt"]
    table = profile["norm_table"]
    traits, limit = trait_rows(read)
    return {
        "organization_name": organization_name,
        "candidate": {
            "id": candidate.pk,
            "participant": candidate.participant,
            # the profile page shows the name; so does its report
            "name": candidate.name,
            "is_simulated": candidate.is_simulated,
        },
        "attempt": None
        if attempt is None
        else {
            **attempt,
            "state_label": _label(AttemptState, attempt["state"]),
            "invited_text": when_text(attempt["invited_at"]),
            "started_text": when_text(attempt["started_at"]),
            "completed_text": when_text(attempt["completed_at"]),
            "count": len(profile["attempts"]),
        },
        "norm_table": None
        if table is None
        else {**table, "population_label": population_label(table["population"])},
        "traits": traits,
        "scored_traits": [t for t in traits if t["scored"]],
        "axis": chart_axis(limit),
        "chart_width": CHART_WIDTH,
        "centre_x": chart_x(0.0, limit),
        "interval_percent": INTERVAL_PERCENT,
        "fits": fit_rows(profile),
        "games": game_sections(read),
        "generated_at": generated_at,
        "software_version": software_version(),
    }


@dataclass(frozen=True)
class RenderedReport:
    filename: str
    content: bytes


def recruiter_report_render(*, actor: Actor, candidate_id: int) -> RenderedReport:
    """The PDF report on the actor's organisation's candidate, audit-logged.

    NotFound (nothing logged) for an id that is not one of the organisation's
    candidates, exactly as for one that does not exist.
    """
    read = recruiter_report_read(organization=actor.organization, candidate_id=candidate_id)
    generated_at = timezone.now()
    html = render_to_string(
        "reports/documents/recruiter.html",
        recruiter_report_context(
            read, organization_name=actor.organization.name, generated_at=generated_at
        ),
    )
    content = pdf_from_html(html)
    attempt = read.profile["attempt"]
    audit_log_record(
        actor=actor,
        action="report.recruiter.read",
        object_type="candidate",
        object_id=read.candidate.pk,
        details={
            "format": "pdf",
            "attempt": attempt["id"] if attempt else None,
            "norm_table": read.profile["norm_table"]["id"] if read.profile["norm_table"] else None,
        },
    )
    return RenderedReport(
        filename=f"recruiter-report-candidate-{read.candidate.pk}.pdf", content=content
    )
