"""Staff page of the anomaly review queue: scan a game's sessions, accept or invalidate them.

``staff:fit-reviews`` lists the organisation's session reviews of one state
(``?state=pending|accepted|invalidated``, pending by default; a tab per state with
its count), sorted as :func:`~pymetrics.fitmodels.selectors.session_reviews` sorts
them (highest anomaly score first) and paged. Each row names the candidate by their
participant id (external id, else id; never their decrypted name or e-mail), the
game, when it was played, the anomaly score and the scan's reasons, and once
decided, the verdict, the reviewer and the note.

``staff:fit-reviews-scan`` queues the Celery task ``scan_anomalies`` for one game;
where tasks run eagerly (the embedded default) the scan has finished when the page
comes back, and the message says what it found instead of "queued".
``staff:fit-review-decide`` accepts or invalidates one pending review
(:func:`~pymetrics.fitmodels.anomaly_services.session_review_decide`; a verdict is final).

Owners, admins and analysts (``REVIEWERS``, as the API) scan and decide; the others
see the queue without the forms, and a POST of theirs is refused with 403. Another
organisation's review id answers 404, like an unknown one. Every render of the queue
names candidates, so every one is audit-logged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from celery.result import EagerResult
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST, require_safe

from pymetrics.accounts.models import User
from pymetrics.accounts.permissions import actor_for_request
from pymetrics.accounts.services import Actor, audit_log_record
from pymetrics.assessments.models import GameSession
from pymetrics.common.errors import Conflict, DomainError, PermissionDenied
from pymetrics.fitmodels.anomaly_services import (
    MIN_REFERENCE_SESSIONS,
    REVIEWERS,
    session_review_decide,
)
from pymetrics.fitmodels.models import ReviewState, SessionReview
from pymetrics.fitmodels.selectors import (
    session_review_counts,
    session_review_get,
    session_reviews,
)
from pymetrics.fitmodels.tasks import scan_anomalies
from pymetrics.games.registry import UnknownGameError, all_games, get_game
from pymetrics.staff.pages.fitmodels import (
    forbidden_page,
    no_organization_page,
    number_text,
    organization_object,
)

#: Reviews on one page of the queue; the page says how many there are in all.
REVIEWS_PER_PAGE = 50

#: The states in the order of the filter tabs.
STATES: tuple[str, ...] = (ReviewState.PENDING, ReviewState.ACCEPTED, ReviewState.INVALIDATED)
STATE_TAB_LABELS = {
    ReviewState.PENDING: gettext_lazy("Waiting for a reviewer"),
    ReviewState.ACCEPTED: gettext_lazy("Accepted"),
    ReviewState.INVALIDATED: gettext_lazy("Invalidated"),
}
STATE_LABELS = {
    ReviewState.PENDING: gettext_lazy("Waiting for a reviewer"),
    ReviewState.ACCEPTED: gettext_lazy("Accepted as the candidate's own play"),
    ReviewState.INVALIDATED: gettext_lazy("Invalidated"),
}


# --- access and words --------------------------------------------------------------------


def is_reviewer(actor: Actor) -> bool:
    """Owners, admins and analysts: the roles the service lets scan and decide."""
    return actor.role in REVIEWERS


def _reviewers_only(request: HttpRequest, actor: Actor) -> HttpResponse:
    return forbidden_page(
        request,
        actor,
        _("Only an owner, an admin or an analyst of the organisation scans and reviews sessions."),
    )


def game_title(key: str) -> str:
    try:
        return _(get_game(key).title)
    except UnknownGameError:
        return key


def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))  # type: ignore[call-overload]


def reviewer_label(user: User | None) -> str:
    """Who decided: a reviewer's name (e-mail without one); their account may be gone."""
    if user is None:
        return _("a removed user")
    return str(user.full_name or user.email)


def state_from(value: str | None) -> str:
    """A state of the query or the form; anything else is the pending queue."""
    return value if value in STATES else ReviewState.PENDING


def page_from(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def queue_url(state: str, page: int = 1) -> str:
    query = {"state": state, **({"page": page} if page > 1 else {})}
    return f"{reverse('staff:fit-reviews')}?{urlencode(query)}"


# --- forms -------------------------------------------------------------------------------


class ScanForm(forms.Form):
    game = forms.ChoiceField(
        label=gettext_lazy("Game"),
        help_text=gettext_lazy(
            "Its scored sessions in the organisation are compared with one another; a scan "
            "needs at least %(min)s of them."
        )
        % {"min": MIN_REFERENCE_SESSIONS},
        error_messages={"required": gettext_lazy("Choose a game to scan.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # built per form: titles in the request's language, and the catalogue as it is
        self.fields["game"].choices = [(game.key, _(game.title)) for game in all_games()]  # type: ignore[attr-defined]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[
            ("accept", gettext_lazy("Accept")),
            ("invalidate", gettext_lazy("Invalidate")),
        ],
        error_messages={
            "required": gettext_lazy("Choose whether to accept or to invalidate the session."),
            "invalid_choice": gettext_lazy(
                "Choose whether to accept or to invalidate the session."
            ),
        },
    )
    note = forms.CharField(required=False, label=gettext_lazy("Note (optional)"))


# --- the queue ---------------------------------------------------------------------------


def state_tabs(state: str, counts: Mapping[str, int]) -> list[dict[str, Any]]:
    return [
        {
            "state": key,
            "label": str(STATE_TAB_LABELS[key]),  # type: ignore[index]
            "count": counts.get(key, 0),
            "url": queue_url(key),
            "current": key == state,
        }
        for key in STATES
    ]


def review_rows(reviews: Sequence[SessionReview]) -> list[dict[str, Any]]:
    """The queue's rows: who played what and when, the scan's verdict, and the decision."""
    rows = []
    for review in reviews:
        session = review.game_session
        candidate = session.attempt.candidate
        decided = review.state != ReviewState.PENDING
        rows.append(
            {
                "id": review.pk,
                "session_id": review.game_session_id,
                "candidate_id": candidate.pk,
                "participant": candidate.participant,
                "simulated": candidate.is_simulated,
                "profile_url": reverse("staff:candidate-profile", args=[candidate.pk]),
                "game": review.game,
                "game_title": game_title(review.game),
                "played_at": session.completed_at or session.started_at,
                "flagged_at": review.created_at,
                "score": review.anomaly_score,
                "score_text": number_text(review.anomaly_score, 3),
                "reasons": [str(reason) for reason in review.reasons or []],
                "state": review.state,
                "state_label": state_label(review.state),
                "pending": not decided,
                "reviewer": reviewer_label(review.reviewed_by) if decided else "",
                "reviewed_at": review.reviewed_at,
                "note": review.note,
                "decide_url": reverse("staff:fit-review-decide", args=[review.pk]),
                "error": "",
                "draft_note": "",
            }
        )
    return rows


def _page_of_reviews(
    *, organization_id: int, state: str, page_number: int
) -> tuple[Page[SessionReview], list[dict[str, Any]]]:
    reviews = session_reviews(organization_id=organization_id, state=state)
    page = Paginator(reviews, REVIEWS_PER_PAGE).get_page(page_number)
    return page, review_rows(list(page.object_list))


def _queue_page(
    request: HttpRequest,
    actor: Actor,
    *,
    state: str,
    page_number: int = 1,
    scan_form: ScanForm | None = None,
    decision_error: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    organization_id = actor.organization.pk
    page, rows = _page_of_reviews(
        organization_id=organization_id, state=state, page_number=page_number
    )
    if decision_error is not None:
        for row in rows:
            if row["id"] == decision_error["review_id"] and row["pending"]:
                row["error"] = decision_error["message"]
                row["draft_note"] = decision_error["note"]
                decision_error = {**decision_error, "shown_in_row": True}
    audit_log_record(
        actor=actor,
        action="session_review.queue.read",
        object_type="sessionreview",
        object_id=state,
        details={
            "state": state,
            "page": page.number,
            "reviews": [row["id"] for row in rows],
            "candidates": sorted({row["candidate_id"] for row in rows}),
        },
    )
    counts = session_review_counts(organization_id=organization_id)
    total = page.paginator.count
    return render(
        request,
        "staff/fitmodels/reviews.html",
        {
            "organization": actor.organization,
            "nav": "fit",
            "state": state,
            "state_label": str(STATE_TAB_LABELS[state]),  # type: ignore[index]
            "tabs": state_tabs(state, counts),
            "rows": rows,
            "page": page,
            "total": total,
            "first_shown": page.start_index() if total else 0,
            "last_shown": page.end_index() if total else 0,
            "not_shown": total - len(rows),
            "previous_url": queue_url(state, page.previous_page_number())
            if page.has_previous()
            else None,
            "next_url": queue_url(state, page.next_page_number()) if page.has_next() else None,
            "any_simulated": any(row["simulated"] for row in rows),
            "can_review": is_reviewer(actor),
            "scan_form": scan_form or ScanForm(),
            "decision_error": decision_error,
        },
        status=status,
    )


# --- views -------------------------------------------------------------------------------


@login_required
@require_safe
def queue_page(request: HttpRequest) -> HttpResponse:
    """The sessions of one review state, highest anomaly score first, with counts per state."""
    actor = actor_for_request(request)
    if actor is None:
        return no_organization_page(request)
    return _queue_page(
        request,
        actor,
        state=state_from(request.GET.get("state")),
        page_number=page_from(request.GET.get("page")),
    )


def _scan_outcome(result: Any, game: str) -> tuple[bool, str]:
    """Whether the scan was queued or ran without a refusal, and what to tell the reviewer.

    Where tasks run eagerly, ``delay`` ran the scan in this request and hands back
    its result (a refusal raises, or sits in the result when errors do not
    propagate); with a worker, only "queued" is known.
    """
    title = game_title(game)
    if not isinstance(result, EagerResult):
        return True, _(
            "Scan of %(game)s queued: the sessions it finds suspicious appear under “Waiting "
            "for a reviewer” once it has run."
        ) % {"game": title}
    if not result.successful():
        error = result.result
        if isinstance(error, DomainError):
            return False, error.message
        return False, _("The scan of %(game)s failed; it is in the failed-job views.") % {
            "game": title
        }
    summary = result.result if isinstance(result.result, dict) else {}
    sessions, suspicious = int(summary.get("sessions", 0)), int(summary.get("suspicious", 0))
    return True, ngettext(
        "%(game)s scanned: %(sessions)s scored sessions compared, %(suspicious)s suspicious "
        "session waiting for a reviewer.",
        "%(game)s scanned: %(sessions)s scored sessions compared, %(suspicious)s suspicious "
        "sessions waiting for a reviewer.",
        suspicious,
    ) % {"game": title, "sessions": sessions, "suspicious": suspicious}


@login_required
@require_POST
def scan(request: HttpRequest) -> HttpResponse:
    """Queue an anomaly scan of one game's scored sessions of the organisation."""
    actor = actor_for_request(request)
    if actor is None:
        return no_organization_page(request)
    if not is_reviewer(actor):
        return _reviewers_only(request, actor)
    form = ScanForm(request.POST)
    if not form.is_valid():
        return _queue_page(request, actor, state=ReviewState.PENDING, scan_form=form, status=400)
    game = form.cleaned_data["game"]
    try:
        # the view has written nothing, so there is no commit to wait for (the API,
        # inside DRF's handling, defers the same call with on_commit)
        result = scan_anomalies.delay(
            actor.organization.pk, game, actor.user.pk if actor.user else None
        )
    except DomainError as error:  # eager: the scan ran here and refused (too few sessions)
        form.add_error("game", error.message)
        return _queue_page(
            request, actor, state=ReviewState.PENDING, scan_form=form, status=error.status
        )
    ok, message = _scan_outcome(result, game)
    if not ok:
        form.add_error("game", message)
        return _queue_page(request, actor, state=ReviewState.PENDING, scan_form=form, status=400)
    messages.success(request, message)
    return redirect(queue_url(ReviewState.PENDING))


def _decided_message(review: SessionReview) -> str:
    participant, game = _session_owner(review)
    if review.state == ReviewState.INVALIDATED:
        return _(
            "The %(game)s session of %(participant)s is invalidated: its attempt is left out "
            "of norm tables, model training and bias audits from now on."
        ) % {"game": game, "participant": participant}
    return _("The %(game)s session of %(participant)s is accepted as their own play.") % {
        "game": game,
        "participant": participant,
    }


def _session_owner(review: SessionReview) -> tuple[str, str]:
    external_id, candidate_id = (
        GameSession.objects.filter(pk=review.game_session_id)
        .values_list("attempt__candidate__external_id", "attempt__candidate_id")
        .get()
    )
    return external_id or str(candidate_id), game_title(review.game)


def _conflict_message(review: SessionReview) -> str:
    review.refresh_from_db()
    reviewer = (
        User.objects.filter(pk=review.reviewed_by_id).only("full_name", "email").first()
        if review.reviewed_by_id
        else None
    )
    return _(
        "This session was already reviewed (%(state)s, by %(reviewer)s, %(when)s); a verdict "
        "is final."
    ) % {
        "state": state_label(review.state),
        "reviewer": reviewer_label(reviewer),
        "when": date_format(localtime(review.reviewed_at), "Y-m-d H:i")
        if review.reviewed_at
        else "—",
    }


@login_required
@require_POST
def decide(request: HttpRequest, review_id: int) -> HttpResponse:
    """Accept a pending review's session as the candidate's own play, or invalidate it."""
    found = organization_object(request, session_review_get, review_id=review_id)
    if isinstance(found, HttpResponse):
        return found
    actor, review = found
    if not is_reviewer(actor):
        return _reviewers_only(request, actor)
    # back to the queue the reviewer came from
    state = state_from(request.POST.get("state"))
    page_number = page_from(request.POST.get("page"))
    form = DecisionForm(request.POST)
    note = str(request.POST.get("note", "")).strip()
    if not form.is_valid():
        message = " ".join(str(e) for errors in form.errors.values() for e in errors)
        error, status = {"review_id": review.pk, "message": message, "note": note}, 400
    else:
        try:
            decided = session_review_decide(
                actor=actor,
                review=review,
                decision=form.cleaned_data["decision"],
                note=form.cleaned_data["note"],
            )
        except PermissionDenied as refusal:
            return forbidden_page(request, actor, refusal.message)
        except Conflict as refusal:
            message = _conflict_message(review)
            error, status = (
                {"review_id": review.pk, "message": message, "note": note},
                (refusal.status),
            )
        except DomainError as refusal:
            error = {"review_id": review.pk, "message": refusal.message, "note": note}
            status = refusal.status
        else:
            messages.success(request, _decided_message(decided))
            return redirect(queue_url(state, page_number))
    return _queue_page(
        request,
        actor,
        state=state,
        page_number=page_number,
        decision_error=error,
        status=status,
    )
