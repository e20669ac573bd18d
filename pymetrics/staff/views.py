"""Staff pages: log in, list assessments, create one, invite candidates, see results."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from pymetrics.accounts.middleware import session_started
from pymetrics.accounts.permissions import actor_for_request
from pymetrics.accounts.services import Actor, audit_log_record
from pymetrics.accounts.twofactor import NEEDS_CODE, NEEDS_NOTHING, session_requirement
from pymetrics.assessments.selectors import (
    assessment_get,
    attempts_for_assessment,
)
from pymetrics.assessments.services import assessment_create, candidate_invite
from pymetrics.common.errors import DomainError
from pymetrics.games.quality import FLAG_DESCRIPTIONS
from pymetrics.games.registry import get_game
from pymetrics.scoring.models import NormTable
from pymetrics.scoring.selectors import (
    current_norm_table,
    latest_metric_set,
    trait_scores_by_attempt,
)
from pymetrics.staff.forms import AssessmentForm, InviteForm

CANDIDATES_PER_PAGE = 50


class LoginView(auth_views.LoginView):
    """E-mail and password, then (pymetrics.staff.pages.security) the two-factor step.

    A user with an authenticator is sent to type a code; an owner or admin without
    one to set one up. Until then the session reaches nothing else
    (pymetrics.accounts.middleware). django-axes counts the failures and locks an
    e-mail and IP address pair out; Django gives the session a new key here.
    """

    template_name = "staff/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        session_started(self.request)
        user = form.get_user()
        actor = actor_for_request(self.request)
        need = session_requirement(user, verified=False, role=actor.role if actor else None)
        if need == NEEDS_NOTHING:
            return response
        step = "staff:two-factor-verify" if need == NEEDS_CODE else "staff:two-factor-enrol"
        return redirect(f"{reverse(step)}?{urlencode({'next': self.get_success_url()})}")


def _actor_or_none(request: HttpRequest) -> Actor | None:
    return actor_for_request(request)


def _no_organization(request: HttpRequest) -> HttpResponse:
    return render(request, "staff/no_organization.html", status=403)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def assessment_create_view(request: HttpRequest) -> HttpResponse:
    actor = _actor_or_none(request)
    if actor is None:
        return _no_organization(request)
    form = AssessmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            assessment = assessment_create(
                organization=actor.organization,
                name=form.cleaned_data["name"],
                games=list(form.cleaned_data["games"]),
                actor=actor,
            )
        except DomainError as error:
            form.add_error("name", error.message)
        else:
            messages.success(
                request, _("Assessment “%(name)s” created.") % {"name": assessment.name}
            )
            return redirect("staff:assessment-detail", assessment_id=assessment.pk)
    return render(
        request, "staff/assessment_form.html", {"organization": actor.organization, "form": form}
    )


def _candidate_rows(attempts: list[Any], games: list[str], shown: str) -> list[dict[str, Any]]:
    """Each candidate's progress through every game, and the metrics of the game shown."""
    metric_names = [m.name for m in get_game(shown).metrics]
    rows = []
    for attempt in attempts:
        sessions = {gs.game: gs for gs in attempt.game_sessions.all()}
        progress = [
            {
                "game": key,
                "title": _(get_game(key).title),
                "state": sessions[key].get_state_display() if key in sessions else _("Not started"),
                "state_code": sessions[key].state if key in sessions else "pending",
            }
            for key in games
        ]
        game_session = sessions.get(shown)
        metric_set = latest_metric_set(game_session) if game_session else None
        rows.append(
            {
                "attempt": attempt,
                "candidate": attempt.candidate,
                "progress": progress,
                "values": [
                    metric_set.values.get(name) if metric_set else None for name in metric_names
                ],
                "flags": [
                    {"code": code, "reason": FLAG_DESCRIPTIONS.get(code, code)}
                    for code in (metric_set.quality_flags if metric_set else [])
                ],
            }
        )
    return rows


#: The tab of the assessment page that shows trait percentiles instead of a game's metrics.
TRAITS_TAB = "traits"


def _trait_rows(attempts: list[Any], norm_table: NormTable | None) -> list[dict[str, Any]]:
    """Each candidate's trait percentiles (with the 90% interval) under the current norms."""
    names = (
        [trait["name"] for trait in norm_table.trait_map.definition["traits"]] if norm_table else []
    )
    scores = (
        trait_scores_by_attempt(attempt_ids=[a.pk for a in attempts], norm_table=norm_table)
        if norm_table
        else {}
    )
    rows = []
    for attempt in attempts:
        mine = scores.get(attempt.pk, {})
        cells = []
        for name in names:
            score = mine.get(name)
            cells.append(
                {
                    "value": score.percentile if score and score.scored else None,
                    "title": (
                        _("90%% interval: percentile %(low).0f to %(high).0f")
                        % {"low": score.percentile_low, "high": score.percentile_high}
                        if score
                        and score.scored
                        and score.percentile_low is not None
                        and score.percentile_high is not None
                        else (score.reason if score else _("no trait scores yet"))
                    ),
                }
            )
        flags = sorted({code for score in mine.values() for code in score.quality_flags})
        rows.append(
            {
                "attempt": attempt,
                "candidate": attempt.candidate,
                "cells": cells,
                "flags": [{"code": c, "reason": FLAG_DESCRIPTIONS.get(c, c)} for c in flags],
            }
        )
    return rows


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def assessment_detail_view(request: HttpRequest, assessment_id: int) -> HttpResponse:
    actor = _actor_or_none(request)
    if actor is None:
        return _no_organization(request)
    try:
        assessment = assessment_get(organization=actor.organization, assessment_id=assessment_id)
    except DomainError:
        return render(request, "staff/not_found.html", status=404)
    invite_form = InviteForm(request.POST or None)
    if request.method == "POST" and invite_form.is_valid():
        try:
            invitation = candidate_invite(
                assessment=assessment,
                email=invite_form.cleaned_data["email"],
                name=invite_form.cleaned_data["name"],
                external_id=invite_form.cleaned_data["external_id"],
                actor=actor,
            )
        except DomainError as error:
            invite_form.add_error(None, error.message)
        else:
            link = request.build_absolute_uri(
                reverse("play:invite", args=[invitation.invite_token])
            )
            # The link is shown once: only its hash is stored.
            request.session["last_invite"] = {"name": invitation.candidate.name, "url": link}
            return redirect("staff:assessment-detail", assessment_id=assessment.pk)
    page = Paginator(attempts_for_assessment(assessment=assessment), CANDIDATES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    games = [get_game(key) for key in assessment.games]
    # One game's metrics at a time (a battery has dozens of metrics in all), or traits.
    requested = request.GET.get("game", "")
    show_traits = requested == TRAITS_TAB
    shown = requested if requested in assessment.games else assessment.games[0]
    norm_table = current_norm_table(organization_id=actor.organization.pk)
    attempts = list(page.object_list)
    progress_rows = _candidate_rows(attempts, assessment.games, shown)
    if show_traits:
        for row, traits in zip(progress_rows, _trait_rows(attempts, norm_table), strict=True):
            row["cells"] = traits["cells"]
            row["flags"] = traits["flags"]
    audit_log_record(
        actor=actor,
        action="assessment.candidates.read",
        object_type="assessment",
        object_id=assessment.pk,
        details={"page": page.number, "candidates": [a.candidate_id for a in page.object_list]},
    )
    return render(
        request,
        "staff/assessment_detail.html",
        {
            "organization": actor.organization,
            "assessment": assessment,
            "games": [{"key": g.key, "title": g.title} for g in games],
            "shown_game": get_game(shown),
            "show_traits": show_traits,
            "traits_tab": TRAITS_TAB,
            "norm_table": norm_table,
            "trait_names": [t["name"] for t in norm_table.trait_map.definition["traits"]]
            if norm_table
            else [],
            "page": page,
            "rows": progress_rows,
            "invite_form": invite_form,
            "last_invite": request.session.pop("last_invite", None),
        },
    )


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return redirect("staff:assessment-list")
