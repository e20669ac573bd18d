"""The candidate's feedback report: words and scales per trait, the PDF, the gates, the link.

Numbers are the hand-worked ones of :mod:`pymetrics.reports.tests.test_documents_world`.
"""

from __future__ import annotations

import html as html_module
import io
import re
import shutil
import subprocess
from datetime import timedelta

import numpy as np
import pypdfium2
import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from pymetrics.accounts.models import AuditLog
from pymetrics.analytics.tests.test_profile import hand_norm_table
from pymetrics.assessments.models import Attempt, AttemptState, GameSession, GameSessionState
from pymetrics.reports.documents.feedback import (
    position_sentence,
    scale_geometry,
    scale_x,
    whole,
)
from pymetrics.reports.tests.test_documents_world import (
    SEEDED_SCORES,
    pipeline_candidate,
    seeded_candidate,
)
from pymetrics.scoring.models import TraitScore

#: A4 in PDF points (210 x 297 mm at 72 points per inch).
A4_POINTS = (595.28, 841.89)


@pytest.fixture
def offering(organization):
    organization.feedback_reports_enabled = True
    organization.save(update_fields=["feedback_reports_enabled"])
    return organization


@pytest.fixture
def seeded(offering):
    return seeded_candidate(offering)


@pytest.fixture
def piped(offering, scored_play, django_capture_on_commit_callbacks):
    return pipeline_candidate(scored_play, django_capture_on_commit_callbacks)


def _text(fragment: str) -> str:
    """An HTML fragment's text, tags dropped, entities decoded, white space collapsed."""
    return re.sub(r"\s+", " ", html_module.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def _trait_section(page: str, trait: str) -> str:
    found = re.search(
        rf'<section class="card trait"[^>]*data-testid="trait-{trait}".*?</section>', page, re.S
    )
    assert found is not None, trait
    return found.group(0)


def _testid_text(fragment: str, testid: str) -> str:
    found = re.search(rf'<(\w+)[^>]*data-testid="{testid}"[^>]*>(.*?)</\1>', fragment, re.S)
    assert found is not None, testid
    return _text(found.group(2))


def _pdf_text(content: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(content))
    text = " ".join(page.extract_text() for page in reader.pages)
    return reader, re.sub(r"\s+", " ", text)


# --- the words and the scale -------------------------------------------------------------


@pytest.mark.parametrize(
    ("percentile", "low", "high", "expected"),
    [
        (82.5, 61.0, 95.0, "Your results place you closer to risk-seeking than to cautious."),
        (
            30.0,
            10.0,
            70.0,
            "Your results place you slightly closer to cautious than to risk-seeking.",
        ),
        (
            45.0,
            20.0,
            70.0,
            "Your results place you about midway between cautious and risk-seeking.",
        ),
        (
            55.0,
            30.0,
            80.0,
            "Your results place you about midway between cautious and risk-seeking.",
        ),
        # just past the middle's margin, and the interval ends exactly at 50: still slightly
        (
            44.9,
            30.0,
            50.0,
            "Your results place you slightly closer to cautious than to risk-seeking.",
        ),
        (10.0, 0.0, 49.9, "Your results place you closer to cautious than to risk-seeking."),
        # no interval stored: never more than slightly
        (
            90.0,
            None,
            None,
            "Your results place you slightly closer to risk-seeking than to cautious.",
        ),
    ],
    ids=[
        "beyond",
        "reaches-middle",
        "midway-low",
        "midway-high",
        "touches-middle",
        "below",
        "no-interval",
    ],
)
def test_the_sentence_says_which_pole_is_nearer_and_how_surely(percentile, low, high, expected):
    sentence = position_sentence(
        left="cautious",
        right="risk-seeking",
        percentile=percentile,
        percentile_low=low,
        percentile_high=high,
    )

    assert sentence == expected


def test_the_scale_runs_from_12_to_388_with_the_band_between_the_interval_s_ends():
    # 12 + 376 x share
    assert scale_x(0.0) == 12.0
    assert scale_x(50.0) == 200.0
    assert scale_x(100.0) == 388.0
    assert scale_x(-3.0) == 12.0  # clamped
    geometry = scale_geometry(82.5, 61.0, 95.0)
    assert (geometry.marker_x, geometry.band_x, geometry.band_width) == (322.2, 241.4, 127.8)
    assert scale_geometry(20.0, None, None).band_width == 0.0


def test_positions_are_whole_numbers_rounded_half_up():
    assert [whole(v) for v in (47.5, 82.5, 20.0, 0.4)] == ["48", "83", "20", "0"]


# --- the HTML report ---------------------------------------------------------------------


def test_the_report_places_each_trait_between_its_poles_in_neutral_words(client, seeded):
    response = client.get(reverse("candidate-report:report", args=[seeded.invite_token]))

    assert response.status_code == 200
    assert response.templates[0].name == "reports/documents/feedback.html"
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    risk = _trait_section(page, "risk_tolerance")
    assert _testid_text(risk, "trait-sentence") == (
        "Your results place you closer to risk-seeking than to cautious."
    )
    assert _testid_text(risk, "trait-numbers") == (
        "Position 83 on a scale from 0 (cautious) to 100 (risk-seeking), "
        "most likely between 61 and 95."
    )
    # the poles at the scale's ends, the low one (percentile 0) on the left
    assert re.search(r'data-role="left-pole">cautious<', risk)
    assert re.search(r'data-role="right-pole">risk-seeking<', risk)
    # the dot at 82.5 and the band from 61 to 95 (12 + 376 x share)
    assert '<circle cx="322.2" cy="20" r="8"' in risk
    assert '<rect x="241.4" y="8" width="127.8" height="24"' in risk
    assert "Based on these games: Balloons, Easy or Hard." in _text(risk)
    assert "People towards cautious tended to secure rewards before risking them." in _text(risk)
    generosity = _trait_section(page, "generosity")
    assert _testid_text(generosity, "trait-sentence") == (
        "Your results place you slightly closer to self-focused than to giving."
    )
    assert _testid_text(generosity, "trait-numbers") == (
        "Position 30 on a scale from 0 (self-focused) to 100 (giving), "
        "most likely between 10 and 70."
    )
    assert "Based on these games: Money Exchange 1, Money Exchange 2." in _text(generosity)
    fairness = _trait_section(page, "fairness")
    assert _testid_text(fairness, "trait-sentence") == (
        "Your results place you about midway between pragmatic and fairness-driven."
    )
    assert _testid_text(fairness, "trait-numbers").startswith("Position 48 on a scale")
    # unscored: a game of the trait was played, or none was
    effort = _trait_section(page, "effort")
    assert 'data-scored="0"' in effort
    assert "<circle" not in effort
    assert _testid_text(effort, "trait-unscored") == (
        "Too few of the results behind this trait could be measured, so it has no position."
    )
    assert _testid_text(_trait_section(page, "attention"), "trait-unscored") == (
        "Your assessment did not include the games behind this trait, so it has no position."
    )
    # nine traits, three of them placed
    assert len(re.findall(r'data-testid="trait-[a-z_]+" data-scored="1"', page)) == 3
    assert len(re.findall(r'data-testid="trait-[a-z_]+" data-scored="0"', page)) == 6


def test_the_report_and_the_thank_you_page_read_in_five_queries(
    client, seeded, django_assert_num_queries
):
    # the attempt (with its assessment, organisation, candidate), its sessions, the norm
    # table, the trait scores; then the audit entry (report) or the attempt (thank-you view)
    with django_assert_num_queries(5):
        assert (
            client.get(reverse("candidate-report:report", args=[seeded.invite_token])).status_code
            == 200
        )
    with django_assert_num_queries(5):
        assert client.get(reverse("play:thanks", args=[seeded.invite_token])).status_code == 200


def test_the_report_never_judges_a_position(client, seeded):
    page = client.get(reverse("candidate-report:report", args=[seeded.invite_token]))

    traits = " ".join(
        _text(_trait_section(page.content.decode(), trait))
        for trait in ("risk_tolerance", "generosity", "fairness", "effort", "attention")
    )
    judging = r"\b(high|higher|low|lower|good|bad|better|worse|strong|weak|poor|excellent)\b"
    assert re.findall(judging, traits, re.I) == []
    reading = _testid_text(page.content.decode(), "feedback-reading")
    assert "Neither end is better or worse than the other" in reading


def test_the_report_says_what_each_game_measured_and_how_results_are_used(client, seeded):
    page = client.get(reverse("candidate-report:report", args=[seeded.invite_token])).content
    html = page.decode()

    games = _testid_text(html, "feedback-games")
    assert (
        "Balloons This game looked at how you balance taking risks against securing rewards."
        in games
    )
    assert "Easy or Hard This game looked at how you weigh effort against reward" in games
    assert "Money Exchange 1 How much of your points you chose to send" in games
    assert "Money Exchange 2 How you respond to offers" in games
    use = _testid_text(html, "feedback-use")
    assert use.startswith(
        "How your results are used Acme Hiring sees these results too. They are used alongside "
        "other information about you, such as your application and your interviews, and are "
        "not meant to decide anything on their own."
    )
    assert "The shaded band is a 90% interval" in use
    assert _testid_text(html, "comparison-text") == (
        "Positions compare your results with 250 people who played the same games for "
        "Acme Hiring; 50 is the middle of that group."
    )
    # the candidate's own name and e-mail are not on it (the link may be forwarded)
    assert "Sam Seeded" not in html
    assert "sam@example.org" not in html
    assert 'data-testid="simulated-notice"' not in html
    assert f'href="{reverse("candidate-report:pdf", args=[seeded.invite_token])}"' in html


def test_a_simulated_candidate_s_report_says_simulated_and_so_do_simulated_norms(client, offering):
    reported = seeded_candidate(offering, is_simulated=True, norm_table=hand_norm_table())

    html = client.get(reverse("candidate-report:report", args=[reported.invite_token])).content
    page = html.decode()

    assert _testid_text(page, "simulated-notice") == (
        "Simulated candidate. This report belongs to a simulated candidate: a computer "
        "program played the games, not a person."
    )
    assert _testid_text(page, "comparison-text") == (
        "Positions compare your results with a simulated reference group: 5 runs of the same "
        "games played by computer programs, not by people. Read them as an illustration; 50 is "
        "the middle of that group."
    )


def test_each_report_shown_is_audit_logged_without_personal_data(client, seeded, offering):
    client.get(reverse("candidate-report:report", args=[seeded.invite_token]))

    (entry,) = AuditLog.objects.filter(action="report.feedback.read")
    assert entry.actor is None
    assert entry.organization == offering
    assert (entry.object_type, entry.object_id) == ("candidate", str(seeded.candidate.pk))
    assert entry.details == {"format": "html", "attempt": seeded.attempt.pk}


# --- the PDF -----------------------------------------------------------------------------


def test_the_pdf_is_the_same_report_on_numbered_a4_pages(client, piped):
    response = client.get(reverse("candidate-report:pdf", args=[piped.invite_token]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="feedback-report.pdf"'
    assert "no-store" in response["Cache-Control"]
    reader, text = _pdf_text(response.content)
    pages = len(reader.pages)
    assert pages >= 2
    for page in reader.pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(
            A4_POINTS, abs=0.01
        )
    # the numbers the database holds, in the report's words
    score = TraitScore.objects.get(attempt=piped.attempt, trait="risk_tolerance")
    assert (score.percentile, score.percentile_low, score.percentile_high) == pytest.approx(
        (20.0, 0.0, 60.0)
    )
    assert "Risk tolerance" in text
    assert (
        "Position 20 on a scale from 0 (cautious) to 100 (risk-seeking), most likely between "
        "0 and 60." in text
    )
    assert "Your results place you slightly closer to cautious than to risk-seeking." in text
    for trait in ("Attention", "Decision making", "Effort", "Emotion", "Fairness", "Focus"):
        assert trait in text
    assert "Generosity" in text
    assert "Learning" in text
    assert "This game looked at how you balance taking risks against securing rewards." in text
    # running header and footer on every page; no download link in the PDF itself
    assert reader.pages[0].extract_text().count("Acme Hiring · Your feedback report") == 1
    assert f"Page 1 of {pages}" in reader.pages[0].extract_text()
    assert f"Page {pages} of {pages}" in reader.pages[-1].extract_text()
    assert "Download this report" not in text
    (entry,) = AuditLog.objects.filter(action="report.feedback.read")
    assert entry.details == {"format": "pdf", "attempt": piped.attempt.pk}


def test_the_pdf_s_first_page_renders_as_an_a4_image_with_text_and_scales(client, piped):
    content = client.get(reverse("candidate-report:pdf", args=[piped.invite_token])).content

    document = pypdfium2.PdfDocument(content)
    image = document[0].render(scale=1).to_pil().convert("L")
    document.close()

    # one pixel per point, the page's 595.28 x 841.89 points rounded up
    assert image.size == (596, 842)
    pixels = np.asarray(image)
    dark = pixels < 160  # ink: text (grey included), lines, fills
    # text, the boxes' borders and the first scales: far from a blank page, far from a black one
    assert 0.01 < float(dark.mean()) < 0.2
    # the running header at the top and the page number at the bottom are drawn too
    assert dark[:45].any()
    assert dark[-60:].any()


# --- the gates ---------------------------------------------------------------------------


def _gate(client, token: str) -> list[tuple[int, str]]:
    """Status and reason of the HTML report and its PDF."""
    answers = []
    for name in ("candidate-report:report", "candidate-report:pdf"):
        response = client.get(reverse(name, args=[token]))
        reason = re.search(
            r'data-testid="feedback-unavailable" data-reason="([a-z_]+)"', response.content.decode()
        )
        answers.append((response.status_code, reason.group(1) if reason else ""))
    return answers


def test_an_organisation_that_does_not_offer_reports_says_so(client, organization):
    reported = seeded_candidate(organization)

    assert _gate(client, reported.invite_token) == [(403, "disabled")] * 2
    page = client.get(reverse("candidate-report:report", args=[reported.invite_token]))
    assert (
        "Acme Hiring does not offer feedback reports for this assessment." in page.content.decode()
    )
    assert not AuditLog.objects.filter(action="report.feedback.read").exists()


def test_a_candidate_with_games_left_is_sent_back_to_them(client, offering, invitation):
    assert _gate(client, invitation.invite_token) == [(409, "not_completed")] * 2
    page = client.get(reverse("candidate-report:report", args=[invitation.invite_token]))
    html = page.content.decode()
    assert "once you have finished all the games" in html
    assert f'href="{reverse("play:lobby", args=[invitation.invite_token])}"' in html


def test_the_report_waits_until_every_game_is_scored_and_traits_are_stored(client, seeded):
    # one game still being scored
    session = GameSession.objects.filter(attempt=seeded.attempt).order_by("position").last()
    assert session is not None
    GameSession.objects.filter(pk=session.pk).update(state=GameSessionState.COMPLETED)
    assert _gate(client, seeded.invite_token) == [(409, "preparing")] * 2
    # every game scored, the traits not stored yet
    GameSession.objects.filter(pk=session.pk).update(state=GameSessionState.SCORED)
    TraitScore.objects.filter(attempt=seeded.attempt).delete()
    assert _gate(client, seeded.invite_token) == [(409, "preparing")] * 2
    page = client.get(reverse("candidate-report:report", args=[seeded.invite_token]))
    assert "Your feedback report is being prepared" in page.content.decode()
    assert not AuditLog.objects.filter(action="report.feedback.read").exists()


def test_without_a_norm_table_the_report_is_not_ready(client, seeded):
    TraitScore.objects.all().delete()
    seeded.norm_table.delete()

    assert _gate(client, seeded.invite_token) == [(409, "no_norms")] * 2


def test_unknown_withdrawn_and_expired_links_answer_as_the_play_pages_do(
    client, offering, seeded, make_invitation
):
    assert _gate(client, "no-such-token") == [(404, "not_found")] * 2
    Attempt.objects.filter(pk=seeded.attempt.pk).update(state=AttemptState.WITHDRAWN)
    assert _gate(client, seeded.invite_token) == [(410, "withdrawn")] * 2
    stale = make_invitation(external_id="stale-1")
    Attempt.objects.filter(pk=stale.attempt.pk).update(
        invite_expires_at=timezone.now() - timedelta(days=1)
    )
    assert _gate(client, stale.invite_token) == [(410, "expired")] * 2
    # the same words and statuses as the invitation pages
    play = client.get(reverse("play:invite", args=["no-such-token"]))
    report = client.get(reverse("candidate-report:report", args=["no-such-token"]))
    assert play.status_code == report.status_code == 404
    assert "This invitation link is not valid." in report.content.decode()


def test_the_report_only_answers_reads(client, seeded):
    response = client.post(reverse("candidate-report:report", args=[seeded.invite_token]))

    assert response.status_code == 405


# --- the link from the thank-you page ----------------------------------------------------


def test_the_thank_you_page_links_the_report_once_it_is_ready(client, seeded):
    thanks = reverse("play:thanks", args=[seeded.invite_token])
    report = reverse("candidate-report:report", args=[seeded.invite_token])

    html = client.get(thanks).content.decode()

    assert f'<a class="btn btn-primary" href="{report}" data-testid="feedback-report-link">' in html
    assert _testid_text(html, "feedback-report-link") == "Read your feedback report"


def test_while_games_are_scored_the_thank_you_page_says_the_report_is_coming(client, seeded):
    GameSession.objects.filter(attempt=seeded.attempt).update(state=GameSessionState.COMPLETED)

    html = client.get(reverse("play:thanks", args=[seeded.invite_token])).content.decode()

    assert 'data-testid="feedback-report-link"' not in html
    assert _testid_text(html, "feedback-report-preparing") == (
        "Your feedback report is being prepared while your games are scored. It will be at "
        "this address in a minute or two."
    )


def test_without_reports_on_offer_the_thank_you_page_has_no_link(client, organization):
    reported = seeded_candidate(organization)

    html = client.get(reverse("play:thanks", args=[reported.invite_token])).content.decode()

    assert "feedback-report" not in html
    assert "Thank you!" in html


# --- the candidate's language ------------------------------------------------------------

GERMAN = """
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

msgid "Your feedback report"
msgstr "Ihr Feedback-Bericht"

msgid "cautious"
msgstr "vorsichtig"

msgid "risk-seeking"
msgstr "risikofreudig"

msgid "Your results place you closer to %(near)s than to %(far)s."
msgstr "Ihre Ergebnisse liegen näher bei %(near)s als bei %(far)s."
"""


def test_the_report_speaks_the_candidate_s_language(client, seeded, tmp_path, settings):
    if shutil.which("msgfmt") is None:
        pytest.skip("needs msgfmt (apt-get install gettext)")
    messages = tmp_path / "de" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    (messages / "django.po").write_text(GERMAN, encoding="utf-8")
    subprocess.run(
        ["msgfmt", "-o", str(messages / "django.mo"), str(messages / "django.po")], check=True
    )
    settings.LOCALE_PATHS = [tmp_path, *settings.LOCALE_PATHS]
    settings.LANGUAGES = [("en", "English"), ("de", "Deutsch")]

    response = client.get(
        reverse("candidate-report:report", args=[seeded.invite_token]),
        HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9",
    )

    html = response.content.decode()
    assert '<html lang="de">' in html
    assert '<h1 id="report-title">Ihr Feedback-Bericht</h1>' in html
    risk = _trait_section(html, "risk_tolerance")
    assert _testid_text(risk, "trait-sentence") == (
        "Ihre Ergebnisse liegen näher bei risikofreudig als bei vorsichtig."
    )
    assert re.search(r'data-role="left-pole">vorsichtig<', risk)
    # what the catalogue lacks stays English
    assert "How to read this report" in html


def test_seeded_scores_are_the_ones_the_report_reads(seeded):
    """The world's own check: what is stored is what the tests above expect."""
    stored = {
        s.trait: s.percentile
        for s in TraitScore.objects.filter(attempt=seeded.attempt, scored=True)
    }

    assert stored == {trait: numbers["percentile"] for trait, numbers in SEEDED_SCORES.items()}
