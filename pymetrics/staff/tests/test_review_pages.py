"""The anomaly review queue page: the queue per state, scans, and reviewers' verdicts.

Most tests build their reviews directly (a candidate, an attempt, a scored session
and its ``SessionReview``), which is what a scan leaves behind; one test scans a
small arrows population (60 people, 3 machines with constant reaction times)
through the page, where Celery runs eagerly as in the embedded default.
"""

from __future__ import annotations

import html as html_text
import re
from datetime import UTC, datetime, timedelta

import pytest
from celery.result import AsyncResult
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pymetrics.accounts.models import AuditLog
from pymetrics.assessments.models import (
    Assessment,
    Attempt,
    AttemptState,
    Candidate,
    GameSession,
    GameSessionState,
)
from pymetrics.fitmodels.models import ReviewState, SessionReview
from pymetrics.fitmodels.selectors import session_reviews
from pymetrics.fitmodels.tests.world import build_scored_sessions
from pymetrics.staff.pages import reviews as reviews_page

PLAYED = datetime(2027, 3, 4, 9, 30, tzinfo=UTC)
REVIEWED = datetime(2027, 3, 5, 14, 5, tzinfo=UTC)
TOO_UNIFORM = "Rule flag too_uniform: every reaction time is the same."
FOREST = (
    "The isolation forest found this session unusual: anomaly score 0.720 is above 0.610, "
    "the 98th percentile of the reference population."
)
#: the dash of the ranges the page prints ("Reviews 1 to 3 of 3", with an en dash)
DASH = "\N{EN DASH}"
INVALIDATING = (
    "Invalidating leaves the session's whole attempt out of the norm tables, trait-map "
    "analyses, model training data and bias audits computed from then on"
)


# --- people and browsers -------------------------------------------------------------------


# --- the queue's world ---------------------------------------------------------------------


def _reviewed(
    organization,
    external_id,
    *,
    score,
    game="arrows",
    state=ReviewState.PENDING,
    simulated=False,
    reasons=(TOO_UNIFORM,),
    reviewer=None,
    note="",
):
    """A scored session of a new candidate and the review the scan left for it."""
    assessment, _ = Assessment.objects.get_or_create(
        organization=organization, name="Graduates", defaults={"games": ["arrows", "stop"]}
    )
    candidate = Candidate.objects.create(
        organization=organization,
        external_id=external_id,
        name=f"Secret Name {external_id}",
        email=f"{external_id}@private.example",
        is_simulated=simulated,
    )
    attempt = Attempt.objects.create(
        candidate=candidate,
        assessment=assessment,
        state=AttemptState.COMPLETED,
        completed_at=PLAYED,
    )
    session = GameSession.objects.create(
        attempt=attempt,
        game=game,
        position=1,
        seed=1,
        state=GameSessionState.SCORED,
        completed_at=PLAYED,
    )
    decided = state != ReviewState.PENDING
    return SessionReview.objects.create(
        game_session=session,
        game=game,
        anomaly_score=score,
        reasons=list(reasons),
        detector_fingerprint="f" * 64,
        state=state,
        reviewed_by=reviewer if decided else None,
        reviewed_at=REVIEWED if decided else None,
        note=note,
        created_at=PLAYED + timedelta(hours=1),
    )


@pytest.fixture
def queue(organization, admin):
    """Three pending reviews (one of a bot), one accepted and one invalidated."""
    return {
        "middle": _reviewed(organization, "cand-b", score=0.72, game="stop", reasons=(FOREST,)),
        "top": _reviewed(organization, "cand-a", score=0.91),
        "bot": _reviewed(organization, "bot-7", score=0.65, simulated=True),
        "accepted": _reviewed(
            organization,
            "cand-d",
            score=0.95,
            state=ReviewState.ACCEPTED,
            reviewer=admin,
            note="Fast but plausible: a gamer.",
        ),
        "invalidated": _reviewed(
            organization,
            "cand-e",
            score=0.99,
            state=ReviewState.INVALIDATED,
            reviewer=admin,
            note="Constant reaction times.",
        ),
    }


# --- reading the page ----------------------------------------------------------------------


def _rows(html):
    table = re.search(r'<table[^>]*data-testid="reviews-table".*?</table>', html, re.S)
    assert table is not None, "no reviews table"
    return re.findall(r'<tr data-testid="review-row".*?</tr>', table.group(0), re.S)


def _text(fragment):
    return html_text.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip())


def _cell(row, name):
    found = re.search(rf'data-cell="{name}"[^>]*>(.*?)</t[dh]>', row, re.S)
    assert found is not None, f"no cell {name}"
    return _text(found.group(1))


def _tabs(html):
    return {
        state: int(count)
        for state, count in re.findall(
            r'data-state="(\w+)"[^>]*>[^<]*<span class="badge" data-role="count">(\d+)</span>', html
        )
    }


def _review_ids(html):
    return [int(i) for i in re.findall(r'data-testid="review-row" data-review-id="(\d+)"', html)]


# --- the queue -----------------------------------------------------------------------------


def test_the_pending_queue_lists_each_session_as_the_selector_sorts_it(
    organization, queue, analyst_browser
):
    response = analyst_browser.get(reverse("staff:fit-reviews"))

    assert response.status_code == 200
    html = response.content.decode()
    expected = [r.pk for r in session_reviews(organization_id=organization.pk, state="pending")]
    assert _review_ids(html) == expected == [queue[k].pk for k in ("top", "middle", "bot")]
    top, middle, bot = _rows(html)
    candidate = queue["top"].game_session.attempt.candidate
    assert f'href="{reverse("staff:candidate-profile", args=[candidate.pk])}"' in top
    assert [_cell(top, c) for c in ("candidate", "game", "played", "score", "state")] == [
        "cand-a",
        "Arrows",
        "2027-03-04 09:30",
        "0.910",
        "Waiting for a reviewer",
    ]
    assert _cell(top, "reasons") == f"{TOO_UNIFORM} Queued 2027-03-04 10:30"
    assert [_cell(middle, c) for c in ("candidate", "game", "score")] == [
        "cand-b",
        "Stop Signal",
        "0.720",
    ]
    assert FOREST in _cell(middle, "reasons")
    # the bot is labelled simulated; the people are not
    assert _cell(bot, "candidate") == "bot-7 simulated"
    assert 'data-testid="simulated"' not in top + middle
    assert _tabs(html) == {"pending": 3, "accepted": 1, "invalidated": 1}
    assert f"Reviews 1{DASH}3 of 3, highest anomaly score first." in html
    assert 'data-testid="pager"' not in html
    # candidates are named by their external id only, never by their encrypted details
    assert "Secret Name" not in html
    assert "private.example" not in html
    # a reviewer gets one verdict form per pending session, and the scan form
    assert html.count('data-testid="decide-form"') == 3
    assert 'data-testid="scan-form"' in html
    assert INVALIDATING in html
    assert 'href="/staff/reviews/" aria-current="page">Review queue</a>' in html


def test_decided_reviews_show_the_verdict_the_reviewer_and_the_note(queue, analyst_browser):
    accepted = analyst_browser.get(reverse("staff:fit-reviews"), {"state": "accepted"})
    invalidated = analyst_browser.get(reverse("staff:fit-reviews"), {"state": "invalidated"})
    unknown = analyst_browser.get(reverse("staff:fit-reviews"), {"state": "everything"})

    (row,) = _rows(accepted.content.decode())
    assert _cell(row, "state") == (
        "Accepted as the candidate's own play by Ada Admin, 2027-03-05 14:05 "
        "Fast but plausible: a gamer."
    )
    (row,) = _rows(invalidated.content.decode())
    assert _cell(row, "candidate") == "cand-e"
    assert (
        _cell(row, "state") == "Invalidated by Ada Admin, 2027-03-05 14:05 Constant reaction times."
    )
    # decided sessions offer no verdict form: a verdict is final
    assert 'data-testid="decide-form"' not in accepted.content.decode()
    assert 'data-testid="decide-form"' not in invalidated.content.decode()
    # an unknown state is the pending queue
    assert _review_ids(unknown.content.decode()) == [queue[k].pk for k in ("top", "middle", "bot")]


def test_every_read_of_the_queue_is_audit_logged_with_the_candidates_shown(
    queue, analyst_browser, analyst
):
    analyst_browser.get(reverse("staff:fit-reviews"))
    analyst_browser.get(reverse("staff:fit-reviews"), {"state": "invalidated"})

    entries = list(AuditLog.objects.filter(action="session_review.queue.read").order_by("pk"))
    assert [(e.actor, e.object_type, e.object_id) for e in entries] == [
        (analyst, "sessionreview", "pending"),
        (analyst, "sessionreview", "invalidated"),
    ]
    pending = [queue[k] for k in ("top", "middle", "bot")]
    assert entries[0].details == {
        "state": "pending",
        "page": 1,
        "reviews": [r.pk for r in pending],
        "candidates": sorted(r.game_session.attempt.candidate_id for r in pending),
    }
    assert entries[1].details["candidates"] == [
        queue["invalidated"].game_session.attempt.candidate_id
    ]


def test_a_recruiter_reads_the_queue_without_forms(queue, recruiter_browser):
    response = recruiter_browser.get(reverse("staff:fit-reviews"))

    assert response.status_code == 200
    html = response.content.decode()
    assert len(_rows(html)) == 3
    assert 'data-testid="decide-form"' not in html
    assert 'data-testid="scan-form"' not in html
    assert 'data-testid="read-only"' in html


def test_another_organisation_sees_none_of_the_queue_and_cannot_decide(
    queue, other_browser, admin_browser
):
    review = queue["top"]

    theirs = other_browser.get(reverse("staff:fit-reviews"))
    foreign = other_browser.post(
        reverse("staff:fit-review-decide", args=[review.pk]), {"decision": "invalidate"}
    )
    unknown = admin_browser.post(
        reverse("staff:fit-review-decide", args=[review.pk + 1000]), {"decision": "accept"}
    )

    assert theirs.status_code == 200
    assert _tabs(theirs.content.decode()) == {"pending": 0, "accepted": 0, "invalidated": 0}
    assert 'data-testid="reviews-empty"' in theirs.content.decode()
    assert (foreign.status_code, unknown.status_code) == (404, 404)
    review.refresh_from_db()
    assert review.state == ReviewState.PENDING
    assert review.game_session.invalidated_at is None


def test_the_queue_is_paged_and_says_how_many_are_not_shown(queue, analyst_browser, monkeypatch):
    monkeypatch.setattr(reviews_page, "REVIEWS_PER_PAGE", 2)

    first = analyst_browser.get(reverse("staff:fit-reviews")).content.decode()
    second = analyst_browser.get(reverse("staff:fit-reviews"), {"page": "2"}).content.decode()
    beyond = analyst_browser.get(reverse("staff:fit-reviews"), {"page": "x"}).content.decode()

    assert _review_ids(first) == [queue["top"].pk, queue["middle"].pk]
    assert (
        f"Reviews 1{DASH}2 of 3, highest anomaly score first. 1 more is on another page." in first
    )
    assert 'href="/staff/reviews/?state=pending&amp;page=2" rel="next"' in first
    assert _review_ids(second) == [queue["bot"].pk]
    assert "Review 3 of 3," in second
    assert "Page 2 of 2" in second
    assert 'href="/staff/reviews/?state=pending" rel="prev"' in second
    assert _review_ids(beyond) == _review_ids(first)


def test_the_queue_reads_in_the_same_number_of_queries_however_long(
    organization, admin, queue, analyst_browser
):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert analyst_browser.get(reverse("staff:fit-reviews")).status_code == 200
        return len(captured)

    before = queries()
    # session, user, the session's two-factor device, membership; the page of reviews,
    # its candidates; the audit entry; the counts per state (no reviewer to name among
    # pending reviews)
    assert before == 8
    for index in range(4):
        _reviewed(organization, f"more-{index}", score=0.5, simulated=index % 2 == 0)

    assert queries() == before


# --- verdicts ------------------------------------------------------------------------------


def test_an_analyst_accepts_a_session_with_a_note(queue, analyst_browser, analyst):
    review = queue["middle"]

    response = analyst_browser.post(
        reverse("staff:fit-review-decide", args=[review.pk]),
        {"decision": "accept", "note": "  Practised player.  ", "state": "pending", "page": "1"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/staff/reviews/?state=pending"
    review.refresh_from_db()
    assert (review.state, review.note, review.reviewed_by) == (
        ReviewState.ACCEPTED,
        "Practised player.",
        analyst,
    )
    assert review.game_session.invalidated_at is None
    entry = AuditLog.objects.get(action="session_review.accept")
    assert (entry.actor, entry.object_id, entry.details) == (
        analyst,
        str(review.game_session_id),
        {"noted": True},
    )
    page = analyst_browser.get(response["Location"]).content.decode()
    assert "The Stop Signal session of cand-b is accepted as their own play." in page
    assert _review_ids(page) == [queue["top"].pk, queue["bot"].pk]
    assert _tabs(page) == {"pending": 2, "accepted": 2, "invalidated": 1}


def test_an_admin_invalidates_a_session_and_it_leaves_the_populations(queue, admin_browser, admin):
    review = queue["bot"]

    response = admin_browser.post(
        reverse("staff:fit-review-decide", args=[review.pk]),
        {"decision": "invalidate", "state": "accepted", "page": "3"},
    )

    assert response.status_code == 302
    # back to the page the reviewer came from
    assert response["Location"] == "/staff/reviews/?state=accepted&page=3"
    review.refresh_from_db()
    session = review.game_session
    assert (review.state, review.note, review.reviewed_by) == (ReviewState.INVALIDATED, "", admin)
    assert session.invalidated_at == review.reviewed_at
    assert AuditLog.objects.get(action="session_review.invalidate").details == {}
    page = admin_browser.get(response["Location"]).content.decode()
    assert (
        "The Arrows session of bot-7 is invalidated: its attempt is left out of norm tables, "
        "model training and bias audits from now on." in page
    )


def test_a_recruiter_s_verdict_and_scan_are_refused(queue, recruiter_browser):
    review = queue["top"]

    decided = recruiter_browser.post(
        reverse("staff:fit-review-decide", args=[review.pk]), {"decision": "invalidate"}
    )
    scanned = recruiter_browser.post(reverse("staff:fit-reviews-scan"), {"game": "arrows"})

    assert (decided.status_code, scanned.status_code) == (403, 403)
    assert "Only an owner, an admin or an analyst" in decided.content.decode()
    review.refresh_from_db()
    assert review.state == ReviewState.PENDING
    assert (
        not AuditLog.objects.filter(action__startswith="session_review.")
        .exclude(action="session_review.queue.read")
        .exists()
    )


def test_a_verdict_without_a_decision_is_shown_on_its_row_and_keeps_the_note(
    queue, analyst_browser
):
    review = queue["middle"]

    response = analyst_browser.post(
        reverse("staff:fit-review-decide", args=[review.pk]),
        {"decision": "maybe", "note": "Looked at the timeline"},
    )

    assert response.status_code == 400
    html = response.content.decode()
    (row,) = [r for r in _rows(html) if f'data-review-id="{review.pk}"' in r]
    assert "Choose whether to accept or to invalidate the session." in _text(row)
    assert ">Looked at the timeline</textarea>" in row
    assert 'data-testid="decision-refusal"' not in html
    review.refresh_from_db()
    assert (review.state, review.note) == (ReviewState.PENDING, "")


def test_a_decided_review_cannot_be_decided_again(queue, analyst_browser):
    review = queue["accepted"]

    response = analyst_browser.post(
        reverse("staff:fit-review-decide", args=[review.pk]),
        {"decision": "invalidate", "note": "On second thoughts"},
    )

    assert response.status_code == 409
    html = response.content.decode()
    refusal = re.search(r'data-testid="decision-refusal".*?</div>', html, re.S)
    assert refusal is not None
    assert _text(refusal.group(0)).endswith(
        "Not recorded This session was already reviewed (Accepted as the candidate's own "
        "play, by Ada Admin, 2027-03-05 14:05); a verdict is final. "
        "Your note was not saved: On second thoughts"
    )
    review.refresh_from_db()
    assert (review.state, review.note) == (ReviewState.ACCEPTED, "Fast but plausible: a gamer.")
    assert review.game_session.invalidated_at is None


# --- scans ---------------------------------------------------------------------------------


@pytest.fixture
def arrows_population(organization):
    """60 people's scored arrows sessions and 3 machines' (constant reaction times)."""
    return build_scored_sessions(
        organization, game="arrows", people=60, machines=3, seed=5, played_at=PLAYED
    )


def test_a_scan_runs_at_once_in_the_embedded_default_and_fills_the_queue(
    arrows_population, analyst_browser
):
    response = analyst_browser.post(reverse("staff:fit-reviews-scan"), {"game": "arrows"})

    assert response.status_code == 302
    assert response["Location"] == "/staff/reviews/?state=pending"
    queued = SessionReview.objects.filter(state=ReviewState.PENDING)
    machines = {arrows_population[f"machine-{i}"].pk for i in range(3)}
    assert machines <= {review.game_session_id for review in queued}
    page = analyst_browser.get(response["Location"]).content.decode()
    suspicious = queued.count()
    assert (
        f"Arrows scanned: 63 scored sessions compared, {suspicious} suspicious sessions "
        "waiting for a reviewer." in page
    )
    assert _review_ids(page) == [r.pk for r in queued.order_by("-anomaly_score", "pk")]
    machine_rows = [r for r in _rows(page) if ">machine-" in r]
    assert len(machine_rows) == 3
    assert all("Rule flag too_uniform" in _cell(row, "reasons") for row in machine_rows)


def test_a_scan_with_too_few_sessions_says_why_and_keeps_the_game(queue, analyst_browser):
    response = analyst_browser.post(reverse("staff:fit-reviews-scan"), {"game": "stop"})

    assert response.status_code == 400
    html = response.content.decode()
    errors = re.search(r'data-testid="scan-errors".*?</div>', html, re.S)
    assert errors is not None
    assert _text(errors.group(0)).endswith(
        "stop: 0 scored sessions; a scan needs at least 50 to learn what is usual"
    )
    assert '<option value="stop" selected>Stop Signal</option>' in html
    # the queue is still there under the refusal
    assert len(_rows(html)) == 3
    assert not AuditLog.objects.filter(action="anomaly.scan").exists()


def test_a_scan_of_an_unknown_game_is_refused_on_the_form(queue, analyst_browser):
    response = analyst_browser.post(reverse("staff:fit-reviews-scan"), {"game": "chess"})

    assert response.status_code == 400
    assert "Select a valid choice. chess is not one of the available choices." in (
        response.content.decode()
    )


def test_with_a_worker_the_scan_is_only_queued(organization, analyst, analyst_browser, monkeypatch):
    sent = []

    class WorkerTask:
        @staticmethod
        def delay(*args):
            sent.append(args)
            return AsyncResult("scan-1")

    monkeypatch.setattr(reviews_page, "scan_anomalies", WorkerTask)

    response = analyst_browser.post(reverse("staff:fit-reviews-scan"), {"game": "arrows"})

    assert response.status_code == 302
    # the task is told who asked, for the audit log
    assert sent == [(organization.pk, "arrows", analyst.pk)]
    page = analyst_browser.get(response["Location"]).content.decode()
    assert (
        "Scan of Arrows queued: the sessions it finds suspicious appear under "
        "“Waiting for a reviewer” once it has run." in page
    )
