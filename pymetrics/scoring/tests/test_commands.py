"""The scoring commands (DESIGN.md 4.2): import_trials, export_metrics, create_api_key."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from pymetrics.accounts.models import ApiKey, Organization
from pymetrics.assessments.models import Assessment, Attempt, Candidate, GameSession
from pymetrics.assessments.services import attempt_start, candidate_invite
from pymetrics.conftest import start_play
from pymetrics.scoring.models import MetricSet

# Two participants, in a file with an extra column and one blank line.
#   p1: balloons 10 kept, 25 burst, 0 kept
#       adjusted = (10 + 0) / 2 = 5;  mean = 35 / 3;  bursts 1;  earnings 5 * 10 = 50
#       block 1 (balloons 1-10) = 5; blocks 2, 3 absent
#   p2: balloons 5 kept, 7 kept
#       adjusted = mean = block 1 = 6;  bursts 0;  earnings 5 * 12 = 60
CSV = """participant,trial,pumps,burst,notes
p1,1,10,0,first balloon
p1,2,25,1,

p1,3,0,0,
p2,1,5,0,
p2,2,7,0,
"""
TSV = CSV.replace(",", "\t").replace(
    "participant\ttrial\tpumps\tburst\tnotes", "Participant\tTRIAL\tPumps\tBurst\tNotes"
)
P1 = {
    "adjusted_pumps": 5.0,
    "mean_pumps": 35 / 3,
    "bursts": 1.0,
    "earnings_cents": 50.0,
    "adjusted_pumps_block_1": 5.0,
}
P2 = {
    "adjusted_pumps": 6.0,
    "mean_pumps": 6.0,
    "bursts": 0.0,
    "earnings_cents": 60.0,
    "adjusted_pumps_block_1": 6.0,
}
EXPORT_ROWS = [
    "participant,game,metric,value",
    "p1,balloons,adjusted_pumps,5",
    f"p1,balloons,mean_pumps,{35 / 3!r}",
    "p1,balloons,bursts,1",
    "p1,balloons,earnings_cents,50",
    "p1,balloons,adjusted_pumps_block_1,5",
    "p2,balloons,adjusted_pumps,6",
    "p2,balloons,mean_pumps,6",
    "p2,balloons,bursts,0",
    "p2,balloons,earnings_cents,60",
    "p2,balloons,adjusted_pumps_block_1,6",
]


def _metrics_by_participant() -> dict[str | None, dict[str, float]]:
    return dict(
        MetricSet.objects.values_list("game_session__attempt__candidate__external_id", "values")
    )


def _row_counts() -> tuple[int, int, int, int]:
    return (
        Candidate.objects.count(),
        Attempt.objects.count(),
        GameSession.objects.count(),
        MetricSet.objects.count(),
    )


@pytest.fixture
def imported(tmp_path, db, capsys):
    """CSV imported into organisation ``default``, assessment ``trials`` (the file's name)."""
    path = tmp_path / "trials.csv"
    path.write_text(CSV)
    call_command("import_trials", str(path), "--game", "balloons")
    capsys.readouterr()
    return path


# --- import_trials -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        pytest.param("trials.csv", CSV, id="csv"),
        pytest.param("trials.tsv", TSV, id="tsv-upper-case-columns"),
        pytest.param("trials.csv", "\ufeff" + CSV.replace("\n", "\r\n"), id="bom-and-crlf"),
    ],
)
def test_import_trials_imports_every_participant_with_exact_metrics(
    tmp_path, db, capsys, filename, content
):
    # given a trial file made by another tool
    path = tmp_path / filename
    path.write_text(content, newline="")

    # when it is imported
    call_command("import_trials", str(path), "--game", "balloons")

    # then each participant is a candidate with one completed, scored game session
    assessment = Assessment.objects.get()
    assert (assessment.name, assessment.organization.slug, assessment.games) == (
        "trials",
        "default",
        ["balloons"],
    )
    assert _metrics_by_participant() == {"p1": P1, "p2": P2}
    assert set(Candidate.objects.values_list("external_id", flat=True)) == {"p1", "p2"}
    assert set(Attempt.objects.values_list("state", flat=True)) == {"completed"}
    assert set(GameSession.objects.values_list("state", "source", "game")) == {
        ("scored", "import", "balloons")
    }
    assert capsys.readouterr().out == (
        f"imported 5 trials of 2 participants (balloons) into assessment {assessment.pk}\n"
    )


def test_import_trials_into_a_named_organisation_and_assessment(tmp_path, organization):
    path = tmp_path / "x.csv"
    path.write_text(CSV)

    call_command(
        "import_trials", str(path), "--game", "balloons", "--org", "acme", "--assessment", "Lab"
    )

    assert Assessment.objects.get().organization == organization
    assert Assessment.objects.get().name == "Lab"
    assert Organization.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "line", "column", "reason"),
    [
        pytest.param(
            CSV.replace("p2,2,7,0", "p2,2,-7,0"),
            7,
            "pumps",
            "expected an integer >= 0, got '-7'",
            id="negative-pumps-after-a-blank-line",
        ),
        pytest.param(
            CSV.replace("p1,2,25,1", "p1,2,25,yes"),
            3,
            "burst",
            "expected an integer >= 0 and <= 1, got 'yes'",
            id="burst-not-binary",
        ),
        pytest.param(
            CSV.replace("p1,3,0,0", "p1,x,0,0"),
            5,
            "trial",
            "expected an integer >= 1, got 'x'",
            id="trial-not-a-number",
        ),
        pytest.param(
            CSV.replace("p2,1,5,0", ",1,5,0"),
            6,
            "participant",
            "is empty",
            id="participant-empty",
        ),
        pytest.param(
            CSV.replace("p2,2,7,0", "p2,1,7,0"),
            7,
            "trial",
            "trial 1 appears twice for participant 'p2'",
            id="trial-repeated",
        ),
        pytest.param(
            CSV.replace("p1,2,25,1", "p1,2,0,1"),
            3,
            "pumps",
            "a balloon that burst must have at least 1 pump",
            id="burst-without-pump",
        ),
        pytest.param(
            CSV.replace("participant,trial,pumps,burst", "participant,trial,pumps,popped"),
            1,
            "burst",
            "required column 'burst' is missing",
            id="missing-column",
        ),
    ],
)
def test_a_bad_row_fails_the_whole_import(tmp_path, db, capsys, content, line, column, reason):
    # given a file with one bad row
    path = tmp_path / "bad.csv"
    path.write_text(content)

    # when it is imported
    with pytest.raises(SystemExit) as exited:
        call_command("import_trials", str(path), "--game", "balloons")

    # then the command exits 1 naming file, line and column, and nothing is imported
    assert exited.value.code == 1
    assert capsys.readouterr().err == f"{path}:{line}: column {column}: {reason}\n"
    assert _row_counts() == (0, 0, 0, 0)
    assert Assessment.objects.count() == 0


def test_the_same_file_fixed_imports_every_participant(tmp_path, db, capsys):
    # given a file that failed on one bad row
    path = tmp_path / "fixme.csv"
    path.write_text(CSV.replace("p2,2,7,0", "p2,2,seven,0"))
    with pytest.raises(SystemExit):
        call_command("import_trials", str(path), "--game", "balloons")

    # when the row is fixed and the file imported again
    path.write_text(CSV)
    call_command("import_trials", str(path), "--game", "balloons")

    # then every participant is there, once
    assert _metrics_by_participant() == {"p1": P1, "p2": P2}
    assert _row_counts() == (2, 2, 2, 2)


def test_reimporting_into_the_same_assessment_fails_cleanly(imported, capsys):
    # given the file already imported
    before = _row_counts()

    # when it is imported again into the same assessment
    with pytest.raises(SystemExit) as exited:
        call_command("import_trials", str(imported), "--game", "balloons")

    # then it fails naming the first clash, and nothing changes
    assert exited.value.code == 1
    assert capsys.readouterr().err == (
        f"{imported}: participant 'p1' already has an attempt in assessment 'trials'; "
        "import into another assessment (--assessment)\n"
    )
    assert _row_counts() == before


def test_the_same_participants_into_another_assessment_reuse_the_candidates(imported):
    call_command("import_trials", str(imported), "--game", "balloons", "--assessment", "Retest")

    assert Candidate.objects.count() == 2
    assert Attempt.objects.count() == 4
    assert MetricSet.objects.count() == 4


def test_import_trials_refuses_an_unknown_game(tmp_path, db, capsys):
    path = tmp_path / "t.csv"
    path.write_text(CSV)

    with pytest.raises(SystemExit) as exited:
        call_command("import_trials", str(path), "--game", "chess")

    assert exited.value.code == 1
    assert (
        capsys.readouterr().err == f"{path}: unknown game 'chess'; known games: "
        "balloons, cards, stop, arrows, digits, keypresses, easy_or_hard, lengths, tower, "
        "faces, money_exchange_1, money_exchange_2\n"
    )
    assert _row_counts() == (0, 0, 0, 0)


def test_import_trials_of_a_missing_file(tmp_path, db, capsys):
    path = tmp_path / "nowhere.csv"

    with pytest.raises(SystemExit) as exited:
        call_command("import_trials", str(path), "--game", "balloons")

    assert exited.value.code == 1
    assert capsys.readouterr().err == f"{path}: no such file\n"


# --- export_metrics ----------------------------------------------------------------------


def test_export_metrics_as_csv(imported, capsys):
    call_command("export_metrics")

    assert capsys.readouterr().out.splitlines() == EXPORT_ROWS


def test_export_metrics_as_json_lines(imported, capsys):
    call_command("export_metrics", "--format", "jsonl")

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[:2] == [
        {"participant": "p1", "game": "balloons", "metric": "adjusted_pumps", "value": 5.0},
        {"participant": "p1", "game": "balloons", "metric": "mean_pumps", "value": 35 / 3},
    ]
    assert [(r["participant"], r["metric"], r["value"]) for r in lines] == [
        (participant, metric, values[metric])
        for participant, values in (("p1", P1), ("p2", P2))
        for metric in values
    ]


def test_export_metrics_filters_by_assessment_and_game(imported, tmp_path, capsys):
    # given a second assessment holding only p2's retest
    retest = tmp_path / "retest.csv"
    retest.write_text("participant,trial,pumps,burst\np2,1,9,0\n")
    call_command("import_trials", str(retest), "--game", "balloons", "--assessment", "Retest")
    capsys.readouterr()

    call_command("export_metrics", "--assessment", "Retest")
    retest_rows = capsys.readouterr().out.splitlines()
    call_command("export_metrics", "--assessment", "trials", "--game", "balloons")
    first_rows = capsys.readouterr().out.splitlines()

    assert retest_rows == [
        "participant,game,metric,value",
        "p2,balloons,adjusted_pumps,9",
        "p2,balloons,mean_pumps,9",
        "p2,balloons,bursts,0",
        "p2,balloons,earnings_cents,45",
        "p2,balloons,adjusted_pumps_block_1,9",
    ]
    assert first_rows == EXPORT_ROWS


def test_export_metrics_of_another_game_or_organisation_is_empty(imported, organization, capsys):
    call_command("export_metrics", "--org", "acme")

    assert capsys.readouterr().out.splitlines() == ["participant,game,metric,value"]


def test_export_metrics_writes_a_file(imported, tmp_path, capsys):
    target = tmp_path / "out" / "metrics.csv"
    target.parent.mkdir()

    call_command("export_metrics", "--output", str(target))

    assert target.read_text().splitlines() == EXPORT_ROWS
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"wrote 10 rows to {target}\n"


def test_export_uses_the_candidate_id_without_an_external_id(
    assessment, organization, make_balloon_events, capsys, django_capture_on_commit_callbacks
):
    # given a browser candidate with no external id and a scored game
    invitation = candidate_invite(assessment=assessment, email="x@example.org", name="X")
    play = start_play(invitation)
    play.send(make_balloon_events([(4, False)]))
    with django_capture_on_commit_callbacks(execute=True):
        play.client.post(play.complete_url)

    call_command("export_metrics", "--org", "acme", "--game", "balloons")

    pk = invitation.candidate.pk
    assert capsys.readouterr().out.splitlines() == [
        "participant,game,metric,value",
        f"{pk},balloons,adjusted_pumps,4",
        f"{pk},balloons,mean_pumps,4",
        f"{pk},balloons,bursts,0",
        f"{pk},balloons,earnings_cents,20",
        f"{pk},balloons,adjusted_pumps_block_1,4",
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param(["--org", "nobody"], "no organisation with slug 'nobody'", id="org"),
        pytest.param(
            ["--game", "chess"],
            "unknown game 'chess'; known games: "
            "balloons, cards, stop, arrows, digits, keypresses, easy_or_hard, lengths, tower, "
            "faces, money_exchange_1, money_exchange_2",
            id="game",
        ),
    ],
)
def test_export_metrics_refuses_unknown_names(imported, arguments, message):
    with pytest.raises(CommandError) as raised:
        call_command("export_metrics", *arguments)

    assert str(raised.value) == message


# --- create_api_key ----------------------------------------------------------------------


def test_create_api_key_prints_a_key_that_authenticates(recruiter, assessment, capsys):
    # when an operator makes a key for the recruiter (e-mail typed in another case)
    call_command("create_api_key", "--user", "RITA@acme.example", "--name", "ci")

    # then the printed key is the only output and it opens the staff API
    printed = capsys.readouterr().out
    key = printed.strip()
    assert printed == f"{key}\n"
    assert key.startswith("pmk_")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get("/api/v1/assessments/")
    assert response.status_code == 200
    assert [a["name"] for a in response.json()] == ["Graduates 2027"]
    # and only its hash is stored
    api_key = ApiKey.objects.get(user=recruiter)
    assert api_key.name == "ci"
    assert key.split("_", 2)[2] not in api_key.key_hash


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param(
            ["--user", "nobody@example.org"], "no user with e-mail 'nobody@example.org'", id="user"
        ),
        pytest.param(
            ["--user", "rita@acme.example", "--org", "nowhere"],
            "no organisation with slug 'nowhere'",
            id="org",
        ),
        pytest.param(
            ["--user", "rita@acme.example", "--org", "globex"],
            "rita@acme.example is not a member of globex",
            id="not-a-member",
        ),
    ],
)
def test_create_api_key_refuses(recruiter, other_organization, arguments, message):
    with pytest.raises(CommandError) as raised:
        call_command("create_api_key", *arguments)

    assert str(raised.value) == message
    assert ApiKey.objects.count() == 0


def test_started_attempts_have_no_metrics_to_export(invitation, capsys):
    # a started but unfinished game session has nothing to export yet
    attempt_start(attempt=invitation.attempt)
    organization = invitation.candidate.organization

    call_command("export_metrics", "--org", organization.slug)

    assert capsys.readouterr().out == "participant,game,metric,value\n"
