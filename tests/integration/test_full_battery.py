"""A candidate plays the whole battery, all twelve games, in one browser page.

Headless Chromium against the real server, worker, PostgreSQL and Redis. The
assessment lists every game of the catalogue in registry order with the
``short_schedules`` setting, so each game session stores its game's short schedule
(``make_config(seed, short=True)``) and nothing is cut or reloaded: the candidate
goes from the invite link through consent and the lobby, starts each game in turn,
reads its instructions, plays its practice and every trial, sees what it measured,
and is back in the lobby, which counts the game done and marks the next one. Finish
leads to the thank-you page.

Each game is played by a simulated candidate (:mod:`tests.integration.players`):
the game's bot, with fixed, human-like traits, plays the session's schedule, and
the page is made to do what its event stream says. So, besides the worker's metrics
having to equal the game's pure extractor run on the stored events, every metric
that does not depend on the browser's clock must be the simulated candidate's
(a few are also counted by hand from the plan: the balloons that burst, the cards'
net score, ...), and the quality flags must be those its choices call for, usually
none. The battery is what the per-game tests do not cover: twelve games after one
another in one page, as candidates play them, through to a complete attempt.

How long each game took (lobby to lobby) is written to ``battery-timings.txt`` in
the artefacts folder, beside a screenshot of the lobby half way through. Most of the
eight minutes or so are the games' own timers, which the short schedules keep (about
6.4 minutes of fixation crosses, feedback pauses, digits shown one a second,
countdowns, rests and 10 s tapping trials); the answers and page turns add the rest.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pymetrics.accounts.services import organization_create
from pymetrics.assessments.models import Attempt, AttemptState, GameSession
from pymetrics.assessments.services import assessment_create, candidate_invite
from pymetrics.events.selectors import events_frame
from pymetrics.games import quality
from pymetrics.games.arrows.spec import correct_answer
from pymetrics.games.balloons.bot import planned_pumps
from pymetrics.games.registry import game_keys, get_game
from pymetrics.scoring.models import MetricSet
from tests.integration import players
from tests.integration.conftest import ARTIFACTS, Services, back_to_lobby, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

GAMES = game_keys()
#: Each game's simulated candidate draws from its own generator, seeded from this.
PLAYER_SEED = 2027
#: Metrics that rest on the browser's clock (reaction, planning and tapping times);
#: every other metric is fixed by the simulated candidate's decisions alone.
TIMED_METRICS: dict[str, set[str]] = {
    "stop": {"go_rt_mean_ms", "signal_respond_rt_mean_ms", "ssrt_ms", "ssrt_valid", "go_rt_sd_ms"},
    "arrows": {"rt_mean_ms", "congruency_effect_rt_ms", "switch_cost_rt_ms"},
    "keypresses": {"iti_mean_ms", "iti_sd_ms", "iti_cv"},
    "tower": {"planning_time_ms", "execution_time_ms"},
    "faces": {"rt_correct_mean_ms"},
}
#: Flags on answer times: the players' pacing (every answer after at least 200 ms, at
#: the bot's varying times) leaves no room for them.
PACING_FLAGS = {quality.TOO_FAST, quality.TOO_UNIFORM}


def _rng(key: str) -> np.random.Generator:
    return np.random.default_rng([PLAYER_SEED, GAMES.index(key)])


def _class(page: Any, key: str) -> str:
    return page.get_attribute(f"[data-testid=lobby-game-{key}]", "class") or ""


def _check_lobby(page: Any, done: int) -> None:
    """The lobby counts ``done`` games done, marks them so, and marks the next."""
    progress = page.inner_text("[data-testid=lobby-progress]")
    if done == 0:
        assert progress.startswith(f"{len(GAMES)} games to play."), progress
    else:
        assert progress.startswith(f"{done} of {len(GAMES)} games done."), progress
    for key in GAMES[:done]:
        assert "progress-list__item--completed" in _class(page, key), key
    if done < len(GAMES):
        following = GAMES[done]
        assert "progress-list__item--next" in _class(page, following)
        assert page.inner_text("[data-testid=lobby-start]") == f"Start {get_game(following).title}"
    else:
        assert page.is_visible("[data-testid=lobby-finish]")


def _planned(key: str, game_session: GameSession) -> tuple[list[dict], Any]:
    """The simulated candidate's event stream on the session's schedule, and its extraction."""
    stream = players.planned_stream(key, game_session.config, _rng(key))
    game = get_game(key)
    frame = pd.DataFrame(stream).assign(session=game_session.pk)
    return stream, game.extract(game.events_to_trials(frame))


def _of(stream: list[dict], event_type: str) -> list[dict[str, Any]]:
    return [event["data"] for event in stream if event["type"] == event_type]


def _by_hand(key: str, config: dict[str, Any], stream: list[dict]) -> dict[str, float]:
    """A few metrics counted straight from the plan and the schedule."""
    if key == "balloons":
        points = config["burst_points"]
        plan = planned_pumps(players.LATENTS[key], _rng(key), len(points))
        kept = [p for p, b in zip(plan, points, strict=True) if p < b]
        return {
            "bursts": sum(p >= b for p, b in zip(plan, points, strict=True)),
            "earnings_cents": config["cents_per_pump"] * sum(kept),
        }
    if key == "cards":
        decks = [choice["deck"] for choice in _of(stream, "choice")]
        good = sum(deck in "CD" for deck in decks)
        return {
            "net_score": good - (len(decks) - good),
            "deck_c_rate": decks.count("C") / len(decks),
        }
    if key == "stop":
        pressed = {data["trial"] for data in _of(stream, "response")}
        ssd, ssds, presses = config["ssd_start_ms"], [], 0
        for entry in config["schedule"]:
            if entry["stop"]:
                ssds.append(ssd)
                presses += entry["trial"] in pressed
                step = (
                    -config["ssd_step_ms"] if entry["trial"] in pressed else config["ssd_step_ms"]
                )
                ssd = min(config["ssd_max_ms"], max(config["ssd_min_ms"], ssd + step))
        return {"p_respond_signal": presses / len(ssds), "mean_ssd_ms": sum(ssds) / len(ssds)}
    if key == "arrows":
        ends = _of(stream, "trial_end")
        right = [
            end["key"] == correct_answer(end["congruent"], end["rule"], end["centre"])
            for end in ends
        ]
        return {"accuracy": sum(right) / len(ends)}
    if key == "digits":
        ends = _of(stream, "trial_end")
        spans = {
            direction: max(
                [e["length"] for e in ends if e["direction"] == direction and e["correct"]],
                default=0,
            )
            for direction in ("forward", "backward")
        }
        return {
            "forward_span": spans["forward"],
            "backward_span": spans["backward"],
            "total_correct": sum(end["correct"] for end in ends),
        }
    if key == "keypresses":
        seconds = sum(item["duration_ms"] for item in config["trials"]) / 1000
        return {"taps_per_s": len(_of(stream, "tap")) / seconds}
    if key == "easy_or_hard":
        ends = _of(stream, "trial_end")
        return {
            "hard_choice_rate": sum(end["choice"] == "hard" for end in ends) / len(ends),
            "completion_rate": sum(end["completed"] for end in ends) / len(ends),
        }
    if key == "lengths":
        answered = [out for out in _of(stream, "feedback") if out["response"] is not None]
        rich = [out["correct"] for out in answered if out["stimulus"] == "rich"]
        lean = [out["correct"] for out in answered if out["stimulus"] == "lean"]
        return {"rich_accuracy": sum(rich) / len(rich), "lean_accuracy": sum(lean) / len(lean)}
    if key == "tower":
        ends = _of(stream, "problem_end")
        return {
            "solved_rate": sum(end["solved"] for end in ends) / len(ends),
            "perfect_solutions": sum(
                end["solved"] and end["moves"] == end["min_moves"] for end in ends
            ),
        }
    if key == "faces":
        answers = _of(stream, "response")
        hits = sum(answer["response"] == answer["emotion"] for answer in answers)
        return {"accuracy": hits / len(answers)}
    if key == "money_exchange_1":
        sent = [d["amount"] / 10 for d in _of(stream, "decision") if d["role"] == "investor"]
        return {"fraction_sent": sum(sent) / len(sent)}
    if key == "money_exchange_2":
        decisions = _of(stream, "decision")
        accepted = [d["accepted"] for d in decisions if d["role"] == "responder"]
        gifts = [d["offer"] / d["total"] for d in decisions if d["role"] == "dictator"]
        return {
            "acceptance_rate": sum(accepted) / len(accepted),
            "dictator_fraction": sum(gifts) / len(gifts),
        }
    raise AssertionError(f"no hand count for {key}")


def _expected_flags(key: str, planned: list[str], stored: dict[str, float]) -> list[str]:
    """The flags the candidate's choices call for; none from the players' pacing.

    The plan decides every flag on choices and omissions. ``ssrt_invalid`` also
    needs the recorded times: the race model holds when p(respond|signal) is within
    0.25..0.75 (the plan's) and signal-respond RTs are faster than go RTs (as
    recorded).
    """
    flags = set(planned) - PACING_FLAGS - {quality.SSRT_INVALID}
    if key == "stop":
        p = stored["p_respond_signal"]
        valid = 0.25 <= p <= 0.75 and (
            stored.get("signal_respond_rt_mean_ms", np.inf) < stored["go_rt_mean_ms"]
        )
        if not valid:
            flags.add(quality.SSRT_INVALID)
    return sorted(flags)


def test_candidate_plays_all_twelve_games_with_short_schedules(
    services: Services, browser: Any
) -> None:
    suffix = secrets.token_hex(4)
    organization = organization_create(name=f"Battery {suffix}", slug=f"battery-{suffix}")
    assessment = assessment_create(
        organization=organization,
        name="The whole battery",
        games=GAMES,
        settings_={"short_schedules": True},
    )
    invitation = candidate_invite(assessment=assessment, name="Alex Everygame")
    attempt = invitation.attempt

    page = browser.new_page(viewport={"width": 1024, "height": 800})
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: console_errors.append(str(exc)))
    page.goto(f"{services.base_url}/play/{invitation.invite_token}/")
    page.click("[data-testid=invite-continue]")
    page.check("#id_consent")
    page.click("[data-testid=consent-submit]")
    _check_lobby(page, 0)

    # The lobby started the attempt: one session per game, each with its short schedule.
    current = GameSession.objects.current().filter(attempt=attempt).order_by("position")
    sessions = {game_session.game: game_session for game_session in current}
    assert list(sessions) == GAMES
    for key, game_session in sessions.items():
        assert game_session.config == get_game(key).make_config(game_session.seed, short=True)

    timings: dict[str, float] = {}
    for done, key in enumerate(GAMES, start=1):
        started = time.monotonic()
        page.click("[data-testid=lobby-start]")
        play = getattr(players, f"play_{key}")
        play(page, sessions[key].config, _rng(key))
        back_to_lobby(page, key)
        timings[key] = time.monotonic() - started
        _check_lobby(page, done)
        assert console_errors == [], (key, console_errors)
        if done == len(GAMES) // 2:
            page.screenshot(path=str(ARTIFACTS / "battery-lobby.png"), full_page=True)
    report = "\n".join(f"{key:<18}{seconds:7.1f} s" for key, seconds in timings.items())
    report += f"\n{'all games':<18}{sum(timings.values()):7.1f} s\n"
    (ARTIFACTS / "battery-timings.txt").write_text(report)
    print(report)

    page.click("[data-testid=lobby-finish]")
    assert "Thank you" in page.inner_text("[data-testid=thanks]")
    assert Attempt.objects.get(pk=attempt.pk).state == AttemptState.COMPLETED

    # Every game session is scored once, as its game's extractor scores its events.
    scored = MetricSet.objects.filter(game_session__attempt=attempt)
    wait_until(lambda: scored.values("game_session").distinct().count() == len(GAMES), timeout=120)
    flags: dict[str, list[str]] = {}
    for key in GAMES:
        game_session = sessions[key]
        metric_sets = list(MetricSet.objects.filter(game_session=game_session))
        assert len(metric_sets) == 1, key
        stored, flags[key] = metric_sets[0].values, metric_sets[0].quality_flags
        game = get_game(key)
        events = events_frame(game_session_ids=[game_session.pk])
        extracted = game.extract(game.events_to_trials(events))
        assert stored == pytest.approx(extracted.session_values(game_session.pk)), key

        # ... and what does not hang on the browser's clock is the simulated candidate's.
        stream, plan = _planned(key, game_session)
        untimed = set(stored) - TIMED_METRICS.get(key, set())
        expected = {
            name: value
            for name, value in plan.session_values(game_session.pk).items()
            if name not in TIMED_METRICS.get(key, set())
        }
        assert {name: stored[name] for name in untimed} == pytest.approx(expected), key
        by_hand = _by_hand(key, game_session.config, stream)
        assert {name: stored[name] for name in by_hand} == pytest.approx(by_hand), key
        planned_flags = plan.flags.get(game_session.pk, [])
        assert flags[key] == _expected_flags(key, planned_flags, stored), key

    print("quality flags:", flags)
    assert console_errors == []
