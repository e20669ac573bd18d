"""Simulated candidates who play each game of the battery through its real page.

One function per game, ``play_<key>(page, config, rng)``, in registry order. Each
starts on the game's first instructions page (right after Start in the lobby), reads
the instructions, plays the practice, presses Start and plays every trial of
``config``, the game session's stored schedule, until the last one is answered.

Every decision is the game's bot's: the bot, a player with fixed, human-like latent
parameters (:data:`LATENTS`), plays the same schedule first, and the page is made to
do what its event stream says (the same pumps, decks, keys, digits, taps, choices,
moves and amounts, in the same order). :func:`planned_stream` gives that stream, so
a test holding a generator seeded alike knows every decision the page received.

Pacing: the bot's answer times are waited out only where a quality flag looks at
them (choice and reaction times, the first move of a problem, tap times), never
below :data:`MIN_ANSWER_MS`, so no answer comes in under the ``too_fast`` threshold
and the times vary as people's do; everything else (instructions, practice, pumps,
presses, typing, later moves) goes as fast as the game's own timers allow.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import numpy as np

from pymetrics.games.arrows import bot as arrows_bot
from pymetrics.games.arrows.spec import correct_answer
from pymetrics.games.balloons import bot as balloons_bot
from pymetrics.games.cards import bot as cards_bot
from pymetrics.games.digits import bot as digits_bot
from pymetrics.games.digits.spec import expected_answer
from pymetrics.games.easy_or_hard import bot as easy_or_hard_bot
from pymetrics.games.faces import bot as faces_bot
from pymetrics.games.faces.spec import EMOTIONS
from pymetrics.games.keypresses import bot as keypresses_bot
from pymetrics.games.lengths import bot as lengths_bot
from pymetrics.games.money_exchange_1 import bot as money_exchange_1_bot
from pymetrics.games.money_exchange_2 import bot as money_exchange_2_bot
from pymetrics.games.registry import get_game
from pymetrics.games.stop import bot as stop_bot
from pymetrics.games.tower import bot as tower_bot
from pymetrics.games.tower.solver import apply_move, optimal_moves, parse_layout

#: The simulated candidate, game by game: traits within each bot's adult population,
#: answer times at its brisk end (medians of 0.35-0.7 s where the page measures them).
LATENTS: dict[str, Any] = {
    "balloons": balloons_bot.Latent(target_pumps=16.0, pump_sd=5.0, pump_interval_ms=250.0),
    "cards": cards_bot.Latent(
        learning_rate=0.3, loss_aversion=1.0, rt_median_ms=350.0, rt_log_sd=0.3
    ),
    "stop": stop_bot.Latent(go_rt_mean=450.0, go_rt_sd=100.0, ssrt=200.0),
    "arrows": arrows_bot.Latent(base_rt=450.0, interference_cost=60.0, switch_cost=90.0),
    "digits": digits_bot.Latent(span_forward=6.5, span_backward=5.0),
    "keypresses": keypresses_bot.Latent(tapping_rate=5.5, variability=0.12, fatigue=-0.5),
    "easy_or_hard": easy_or_hard_bot.Latent(
        effort_cost=0.0, reward_sensitivity=1.5, press_rate_hz=6.5, choice_latency_ms=500.0
    ),
    "lengths": lengths_bot.Latent(discriminability=1.5, learning_rate=0.01, rt_median_ms=350.0),
    "tower": tower_bot.Latent(planning_depth=3.0, impulsivity=0.3, think_ms=600.0, move_ms=500.0),
    "faces": faces_bot.Latent(sensitivity=1.5, rt_median_ms=450.0, rt_log_sd=0.25),
    "money_exchange_1": money_exchange_1_bot.Latent(
        trust=0.5, reciprocity=0.4, rt_median_ms=700.0, rt_log_sd=0.3
    ),
    "money_exchange_2": money_exchange_2_bot.Latent(
        fairness_threshold=0.25, generosity=0.3, rt_median_ms=400.0
    ),
}

#: The player's floor under the bot's answer times: a person reading a display.
MIN_ANSWER_MS = 200.0
#: Taps planned this close to a tapping trial's end are left out, so every tap the
#: player makes lands inside the trial however late the page is seen to start.
TAP_MARGIN_MS = 600.0


def planned_stream(key: str, config: dict[str, Any], rng: np.random.Generator) -> list[dict]:
    """The events the simulated candidate means to produce on this schedule.

    The bot's stream (``GAME.play(LATENTS[key], rng, config)``), with the taps too
    close to a tapping trial's end left out (:data:`TAP_MARGIN_MS`): what the page
    will record, times apart.
    """
    stream = get_game(key).play(LATENTS[key], rng, config)
    if key == "keypresses":
        stream = _taps_in_time(stream)
    return stream


def _taps_in_time(stream: list[dict]) -> list[dict]:
    durations = {e["data"]["trial"]: e["data"]["duration_ms"] for e in _of(stream, "trial_start")}
    kept = [
        event
        for event in stream
        if event["type"] != "tap"
        or event["data"]["t_ms"] <= durations[event["data"]["trial"]] - TAP_MARGIN_MS
    ]
    taps: dict[int, int] = defaultdict(int)
    for event in _of(kept, "tap"):
        taps[event["data"]["trial"]] += 1
    return [
        {**event, "data": {**event["data"], "taps": taps[event["data"]["trial"]]}}
        if event["type"] == "trial_end"
        else event
        for event in kept
    ]


def _of(stream: list[dict], *types: str) -> list[dict]:
    return [event for event in stream if event["type"] in types]


def _data(stream: list[dict], event_type: str) -> list[dict[str, Any]]:
    return [event["data"] for event in _of(stream, event_type)]


def _wait_for(page: Any, selector: str, timeout: float = 30_000) -> None:
    """Wait until an element matches ``selector``, looking on every animation frame.

    A new display is seen on the frame that paints it, so the answer times the page
    measures are the bot's plus little more than a round trip to the browser.
    """
    page.wait_for_function(
        "selector => document.querySelector(selector) !== null",
        arg=selector,
        polling="raf",
        timeout=timeout,
    )


def _read_instructions(page: Any, pages: int, says: str = "") -> None:
    """Read the instructions page by page (somewhere they say ``says``), then on."""
    _wait_for(page, "#jspsych-instructions-next")
    text = ""
    for _ in range(pages):
        text += page.inner_text(".game-instructions") + "\n"
        page.click("#jspsych-instructions-next")
    assert says in text, (says, text)


def _start(page: Any) -> None:
    """The "Ready?" screen after the practice: the recorded game starts."""
    page.click("[data-testid=game-ready]")


def _think(page: Any, rt_ms: float) -> None:
    """Wait out the bot's answer time (never less than :data:`MIN_ANSWER_MS`)."""
    page.wait_for_timeout(max(MIN_ANSWER_MS, float(rt_ms)))


# --- balloons -------------------------------------------------------------------


def play_balloons(page: Any, config: dict[str, Any], rng: np.random.Generator) -> None:
    """Pump each balloon as often as the bot planned, then collect (or see it burst)."""
    stream = planned_stream("balloons", config, rng)
    ends = _of(stream, "collect", "burst")
    total = len(config["burst_points"])
    _read_instructions(page, 3, f"There are {total} balloons")
    # the practice balloon: collected at once
    _wait_for(page, "[data-testid=balloon-collect]:not([disabled])")
    page.keyboard.press("Enter")
    page.click("[data-testid=balloon-continue]")
    _start(page)
    for balloon, end in enumerate(ends, start=1):
        page.wait_for_function(
            "([n, total]) => document.querySelector('[data-testid=balloon-counter]')"
            "?.textContent === `Balloon ${n} of ${total}` && !document.querySelector("
            "'[data-testid=balloon-collect]').disabled",
            arg=[balloon, total],
        )
        for _ in range(end["data"]["pumps"]):
            page.keyboard.press("Space")
        if end["type"] == "collect":
            page.keyboard.press("Enter")


# --- cards ----------------------------------------------------------------------


def _wait_for_decks(page: Any, trial: int) -> None:
    _wait_for(page, f"[data-testid=cards-game][data-state=choose][data-trial='{trial}']")


def play_cards(page: Any, config: dict[str, Any], rng: np.random.Generator) -> None:
    """Take the bot's deck on every card, after its choice time."""
    choices = _data(planned_stream("cards", config, rng), "choice")
    _read_instructions(page, 3, f"choose {config['trials']} cards")
    for draw in range(1, config["practice"]["draws"] + 1):
        _wait_for_decks(page, draw)
        page.keyboard.press(str(draw))
    page.click("[data-testid=cards-continue]")
    _start(page)
    for choice in choices:
        _wait_for_decks(page, choice["trial"])
        _think(page, choice["rt_ms"])
        page.keyboard.press(choice["deck"].lower())


# --- stop -----------------------------------------------------------------------

_STOP = "[data-testid=stop-game]"
_STOP_KEYS = {"left": "ArrowLeft", "right": "ArrowRight"}


def _wait_for_arrow(page: Any, trial: int) -> None:
    """Wait until the trial's arrow is painted and presses count."""
    _wait_for(page, f"{_STOP}[data-trial='{trial}']:is([data-phase=stimulus], [data-phase=signal])")


def _wait_for_stop_trial_end(page: Any, trial: int) -> None:
    page.wait_for_function(
        "([root, n]) => { const r = document.querySelector(root);"
        " return !r || r.dataset.trial !== String(n) || r.dataset.phase === 'iti'; }",
        arg=[_STOP, trial],
    )


def play_stop(page: Any, config: dict[str, Any], rng: np.random.Generator) -> None:
    """Press as the bot's race says: its go time, its key, or nothing.

    On a stop trial the bot presses when its go process beats the stop process
    (go RT < SSD + SSRT, the SSD following the page's staircase), at its go RT,
    before or after the sign appears.
    """
    responses = {
        data["trial"]: data for data in _data(planned_stream("stop", config, rng), "response")
    }
    _read_instructions(page, 3, f"There are {config['trials']} arrows")
    for trial in range(1, config["practice_trials"] + 1):
        _wait_for_arrow(page, trial)
        direction = page.get_attribute("[data-testid=stop-stimulus]", "data-direction")
        page.keyboard.press(_STOP_KEYS[str(direction)])
    page.click("[data-testid=stop-continue]")
    _start(page)
    schedule = config["schedule"]
    for position, entry in enumerate(schedule, start=1):
        trial = entry["trial"]
        _wait_for_arrow(page, trial)
        response = responses.get(trial)
        if response is not None:
            _think(page, response["rt_ms"])
            page.keyboard.press(_STOP_KEYS[response["key"]])
        _wait_for_stop_trial_end(page, trial)
        if position % config["block_size"] == 0 and position < len(schedule):
            page.click("[data-testid=stop-continue]")  # the break between blocks


# --- arrows ---------------------------------------------------------------------

_ARROWS_SHOWN = """([label, n, total]) => {
  const row = document.querySelector('[data-testid=arrows-stimulus]');
  const counter = document.querySelector('[data-testid=arrows-counter]');
  return !!row && !!counter && row.dataset.state === 'stimulus'
    && counter.textContent === `${label} ${n} of ${total}`;
}"""
_ARROW_KEYS = {"left": "ArrowLeft", "right": "ArrowRight"}


def play_arrows(page: Any, config: dict[str, Any], rng: np.random.Generator) -> None:
    """Answer each row with the bot's key after its RT, or let the row run out."""
    ends = _data(planned_stream("arrows", config, rng), "trial_end")
    total = len(config["trials"])
    _read_instructions(page, 3, f"There are {total} rows")
    practice = config["practice"]
    for number, item in enumerate(practice, start=1):
        page.wait_for_function(_ARROWS_SHOWN, arg=["Practice", number, len(practice)])
        right = correct_answer(bool(item["congruent"]), item["rule"], item["centre"])
        page.keyboard.press(_ARROW_KEYS[right])
    _start(page)
    for number, end in enumerate(ends, start=1):
        page.wait_for_function(_ARROWS_SHOWN, arg=["Trial", number, total])
        if end["key"] is None:
            page.wait_for_function(
                "() => document.querySelector('[data-testid=arrows-stimulus]')"
                "?.dataset.state !== 'stimulus'"
            )
            continue
        _think(page, end["rt_ms"])
        page.keyboard.press(_ARROW_KEYS[end["key"]])


# --- digits ---------------------------------------------------------------------

_DIGITS = "[data-testid=digits-game]"


def _answer_phase(practice: bool, trial: str) -> str:
    return (
        f"{_DIGITS}[data-practice={'true' if practice else 'false'}]"
        f"[data-phase=answer][data-trial='{trial}']"
    )


def _type_answer(page: Any, practice: bool, trial: str, entered: str) -> None:
    _wait_for(page, _answer_phase(practice, trial))
    page.keyboard.type(entered)
    _wait_for(page, f"[data-testid=digits-answer][data-entered='{entered}']")
    page.keyboard.press("Enter")


def _practise_digits(page: Any, config: dict[str, Any], direction: str) -> None:
    """The unrecorded practice run, typed back right; then the part's Start."""
    sequence = config["practice"][direction]
    _type_answer(page, True, "practice-1", expected_answer(sequence, direction))
    page.click("[data-testid=digits-continue]")
    _start(page)


def play_digits(page: Any, config: dict[str, Any], rng: np.random.Generator) -> None:
    """Type back what the bot recalls, sequence by sequence, forward then backward."""
    stream = planned_stream("digits", config, rng)
    direction_of = {data["trial"]: data["direction"] for data in _data(stream, "sequence_shown")}
    _read_instructions(page, 3, f"start with {config['start_length']} digits")
    _practise_digits(page, config, "forward")
    backward_started = False
    for response in _data(stream, "response"):
        if direction_of[response["trial"]] == "backward" and not backward_started:
            backward_started = True
            _read_instructions(page, 1, "reverse order")
            _practise_digits(page, config, "backward")
        _type_answer(page, False, str(response["trial"]), response["entered"])


# --- keypresses -----------------------------------------------------------------

_KEYPRESSES = "[data-testid=keypresses-game]"


def play_keypresses(page: Any, config: dict[str, Any], rng: np.random.Generator) -> None:
    """Tap Space at the bot's tap times, trial after trial, hands as the game says."""
    taps: dict[int, list[float]] = defaultdict(list)
    for data in _data(planned_stream("keypresses", config, rng), "tap"):
        taps[data["trial"]].append(float(data["t_ms"]))
    _read_instructions(page, 3, f"There are {len(config['trials'])} short trials")
    # practice: three taps, then Continue
    page.wait_for_selector("[data-testid=keypresses-start]:visible")
    page.keyboard.press("Enter")
    _wait_for(page, f"{_KEYPRESSES}[data-state=tapping]")
    for _ in range(3):
        page.keyboard.press("Space")
    page.click("[data-testid=keypresses-continue]")
    _start(page)
    for item in config["trials"]:
        trial = item["trial"]
        _wait_for(page, f"{_KEYPRESSES}[data-state=ready][data-trial='{trial}']")
        assert page.get_attribute(_KEYPRESSES, "data-hand") == item["hand"]
        page.keyboard.press("Enter")
        _wait_for(page, f"{_KEYPRESSES}[data-state=tapping][data-trial='{trial}']")
        started = time.monotonic()
        for t_ms in taps[trial]:
            wait = started + t_ms / 1000 - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            page.keyboard.press("Space")
        _wait_for(page, f"{_KEYPRESSES}[data-ended-trial='{trial}']")


# --- easy_or_hard ---------------------------------------------------------------

_EOH = "[data-testid=eoh-game]"


def _eoh_phase(page: Any, phase: str, trial: int, timeout: float = 30_000) -> None:
    _wait_for(page, f"{_EOH}[data-phase={phase}][data-trial='{trial}']", timeout=timeout)


def _press_space(page: Any, times: int) -> None:
    for _ in range(times):
        page.keyboard.press("Space")


def play_easy_or_hard(page: Any, config: dict[str, Any], rng: np.random.Generator) -> None:
    """Choose the bot's task after its choice time, and press as often as it did."""
    stream = planned_stream("easy_or_hard", config, rng)
    presses: dict[int, int] = defaultdict(int)
    for data in _data(stream, "press"):
        presses[data["trial"]] += 1
    _read_instructions(page, 3, f"There are {config['trials']} rounds")
    # practice: the easy task, finished
    _wait_for(page, f"{_EOH}.eoh--practice[data-phase=offer]")
    page.keyboard.press("e")
    _wait_for(page, f"{_EOH}.eoh--practice[data-phase=press]")
    _press_space(page, config["easy_presses"])
    page.click("[data-testid=eoh-continue]")
    _start(page)
    for choice in _data(stream, "choice"):
        trial = choice["trial"]
        _eoh_phase(page, "offer", trial)
        if not choice["timed_out"]:  # a timed-out choice: the page assigns the task
            _think(page, choice["rt_ms"])
            page.keyboard.press("h" if choice["choice"] == "hard" else "e")
        _eoh_phase(page, "press", trial)
        _press_space(page, presses[trial])
        # an unfinished task ends when its time is up (21 s at most)
        _eoh_phase(page, "feedback", trial)


# --- lengths --------------------------------------------------------------------

_LENGTHS = "[data-testid=lengths-game]"
_LENGTH_KEYS = {"short": "s", "long": "l"}


def _wait_for_mouth(page: Any, trial: int) -> None:
    _wait_for(page, f"{_LENGTHS}[data-state=respond][data-trial='{trial}']")


def play_lengths(page: Any, config: dict[str, Any], rng: np.random.Generator) -> None:
    """Answer each face as the bot saw it (short or long), after its answer time."""
    outcomes = _data(planned_stream("lengths", config, rng), "feedback")
    _read_instructions(page, 3, f"There are {config['trials']} faces")
    for face, length in enumerate(config["practice"], start=1):
        _wait_for_mouth(page, face)
        page.keyboard.press(_LENGTH_KEYS[length])
    page.click("[data-testid=lengths-continue]")
    _start(page)
    block = 1
    for outcome in outcomes:
        trial = outcome["trial"]
        if outcome["block"] != block:
            block = outcome["block"]
            page.click("[data-testid=lengths-continue]")  # the break between blocks
        _wait_for_mouth(page, trial)
        if outcome["response"] is None:
            _wait_for(page, f"{_LENGTHS}[data-phase=feedback][data-trial='{trial}']")
            continue
        _think(page, outcome["rt_ms"])
        page.keyboard.press(_LENGTH_KEYS[outcome["response"]])


# --- tower ----------------------------------------------------------------------

_TOWER = "[data-testid=tower-game]"


def _wait_for_board(page: Any, problem: int) -> None:
    _wait_for(page, f"{_TOWER}[data-state=play][data-problem='{problem}']")


def _move_ball(page: Any, source: int, target: int) -> None:
    """Pick up the top ball of peg ``source`` and put it on peg ``target`` (keys 1-3)."""
    page.keyboard.press(str(source))
    _wait_for(page, f"{_TOWER}[data-state=holding]")
    page.keyboard.press(str(target))


def play_tower(page: Any, config: dict[str, Any], rng: np.random.Generator) -> None:
    """Make the bot's moves, undos and resets, after its time to the first move."""
    stream = planned_stream("tower", config, rng)
    actions = tower_bot.planned_actions(stream)
    first_move_ms = {
        data["problem"]: data["first_move_ms"] for data in _data(stream, "problem_end")
    }
    _read_instructions(page, 3, f"There are {len(config['problems'])} problems")
    for number, problem in enumerate(config["practice"], start=1):
        _wait_for_board(page, number)
        layout, goal = parse_layout(problem["start"]), parse_layout(problem["goal"])
        while layout != goal:
            move = optimal_moves(layout, goal)[0]
            _move_ball(page, move[0] + 1, move[1] + 1)
            layout = apply_move(layout, move)
    page.click("[data-testid=tower-continue]")
    _start(page)
    for problem in config["problems"]:
        number = problem["problem"]
        for index, step in enumerate(actions[number]):
            _wait_for_board(page, number)
            if index == 0:
                _think(page, first_move_ms[number])
            if step[0] == "move":
                _move_ball(page, step[1], step[2])
            elif step[0] == "undo":
                page.keyboard.press("u")
            else:
                page.click("[data-testid=tower-reset]")


# --- faces ----------------------------------------------------------------------


def _wait_for_face(page: Any, number: int) -> None:
    _wait_for(page, f"[data-testid=faces-game][data-state=face][data-trial='{number}']")


def play_faces(page: Any, config: dict[str, Any], rng: np.random.Generator) -> None:
    """Label each face as the bot read it, after its answer time (keys 1-7)."""
    responses = _data(planned_stream("faces", config, rng), "response")
    _read_instructions(page, 3, f"{len(config['trials'])} drawn faces")
    for number, item in enumerate(config["practice"], start=1):
        _wait_for_face(page, number)
        page.keyboard.press(str(EMOTIONS.index(item["emotion"]) + 1))
    _start(page)
    for response in responses:
        _wait_for_face(page, response["trial"])
        _think(page, response["rt_ms"])
        page.keyboard.press(str(EMOTIONS.index(response["response"]) + 1))


# --- money_exchange_1 -----------------------------------------------------------

_MX1 = "[data-testid=money_exchange_1-game]"


def _mx1(name: str) -> str:
    return f"[data-testid=money_exchange_1-{name}]"


def _mx1_round(page: Any, state: str, number: int) -> None:
    _wait_for(page, f"{_MX1}[data-state={state}][data-round='{number}']")


def _mx1_decide(page: Any, number: int, amount: int) -> None:
    """Type the amount, confirm with Enter, and go on from the result."""
    page.fill(_mx1("amount"), str(amount))
    page.keyboard.press("Enter")
    _mx1_round(page, "outcome", number)
    page.click(_mx1("next"))


def _mx1_next_round(page: Any, rounds: list[dict[str, Any]], index: int) -> None:
    """Wait for round ``index``'s decision, past the notice when the role changes."""
    if index and rounds[index]["role"] != rounds[index - 1]["role"]:
        _wait_for(page, f"{_MX1}[data-state=role_change]")
        page.click(_mx1("continue"))
    _mx1_round(page, "decide", rounds[index]["round"])


def play_money_exchange_1(page: Any, config: dict[str, Any], rng: np.random.Generator) -> None:
    """Send and return the bot's amounts, after its decision times."""
    decisions = _data(planned_stream("money_exchange_1", config, rng), "decision")
    _read_instructions(page, 3)
    # practice: one round as Player A, then (after the role change) one as Player B
    practice = config["practice_rounds"]
    for index, item in enumerate(practice):
        _mx1_next_round(page, practice, index)
        _mx1_decide(page, item["round"], 2)
    _start(page)
    rounds = config["rounds"]
    for index, decision in enumerate(decisions):
        _mx1_next_round(page, rounds, index)
        _think(page, decision["rt_ms"])
        _mx1_decide(page, rounds[index]["round"], decision["amount"])


# --- money_exchange_2 -----------------------------------------------------------

_MX2 = "[data-testid=mx-game]"


def _mx2_wait(page: Any, state: str, trial: int) -> None:
    _wait_for(page, f"{_MX2}[data-state={state}][data-trial='{trial}']")


def _mx2_answer(page: Any, item: dict[str, Any], accepted: bool, offer: int) -> None:
    """Accept or reject with A or R, or type an amount and confirm with Enter."""
    if item["role"] == "responder":
        page.keyboard.press("a" if accepted else "r")
    else:
        page.fill("[data-testid=mx-amount]", str(offer))
        page.keyboard.press("Enter")


def play_money_exchange_2(page: Any, config: dict[str, Any], rng: np.random.Generator) -> None:
    """Answer offers and split money as the bot decided, after its decision times."""
    decisions = _data(planned_stream("money_exchange_2", config, rng), "decision")
    _read_instructions(page, 3)
    # practice: one round of each part, each part opened from its introduction
    for item in config["practice"]:
        _mx2_wait(page, "intro", item["trial"])
        page.click("[data-testid=mx-part-start]")
        _mx2_wait(page, "respond" if item["role"] == "responder" else "amount", item["trial"])
        _mx2_answer(page, item, True, item["total"] // 3)
    page.click("[data-testid=mx-continue]")
    _start(page)
    previous_role = None
    for item, decision in zip(config["rounds"], decisions, strict=True):
        trial = item["trial"]
        if item["role"] != previous_role:
            previous_role = item["role"]
            _mx2_wait(page, "intro", trial)
            page.click("[data-testid=mx-part-start]")
        _mx2_wait(page, "respond" if item["role"] == "responder" else "amount", trial)
        _think(page, decision["rt_ms"])
        _mx2_answer(page, item, bool(decision.get("accepted")), int(decision.get("offer", 0)))
