"""Simulated candidates: bots with known latent parameters played through the pipeline.

Each bot's events go through the same ingestion, completion and extraction code
as a browser's, so parameter recovery checks the whole path, not just the maths.
Simulated candidates are marked ``is_simulated`` and shown as simulated.

With a :class:`History`, the candidates are spread over the past weeks instead of
all playing "now" (the demo's trends then have weeks to show), and a share of them
follows the usual funnel: some are only invited, some stop after a few games.
:func:`plan_history` draws the seeded arrival pattern; after each candidate has
played, every timestamp the pipeline wrote is moved to the planned time
(:func:`_backdate`), consistently: invitation, consent, start, each game session's
start and end, each event's arrival (session start + its ``t``), and the metric
and trait scores computed after each game (:func:`scores_backdate`). The audit
log is left as it is: it records when the simulation really ran.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    DateTimeField,
    DurationField,
    Expression,
    ExpressionWrapper,
    F,
    OuterRef,
    Subquery,
    Value,
)
from django.db.models.functions import Cast
from django.utils import timezone
from scipy.stats import spearmanr

from pymetrics.accounts.models import Organization
from pymetrics.assessments.models import (
    Assessment,
    Attempt,
    AttemptState,
    Candidate,
    GameSession,
    GameSessionSource,
    GameSessionState,
)
from pymetrics.assessments.services import attempt_start, candidate_invite
from pymetrics.events.models import Event
from pymetrics.events.services import events_store_trusted
from pymetrics.games.registry import get_game
from pymetrics.play.services import play_complete_game_session
from pymetrics.psychometrics import NormTableData, TraitMap, infer_traits
from pymetrics.psychometrics.subscores import augmented_subscores
from pymetrics.scoring.models import MetricSet, NormTable, TraitScore


@dataclass(frozen=True)
class SimulatedCandidate:
    candidate_id: int
    #: game key -> latent parameters of the bot that played it
    latents: dict[str, dict[str, float]]
    attempt_id: int = 0
    #: game key -> the bot's latent dataclass itself, to play it again (test-retest)
    bots: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class Recovery:
    game: str
    latent: str
    measure: str
    spearman: float | None
    n: int


@dataclass(frozen=True)
class History:
    """Spread simulated candidates over the past ``weeks``, with a realistic funnel.

    ``invited_only`` of the candidates (a share) never start; ``stopped`` start and
    stop after some of their games (1 to all but one, uniformly), leaving the rest
    pending. ``now`` ends the history (default: when the simulation runs).
    """

    weeks: int
    invited_only: float = 0.0
    stopped: float = 0.0
    now: datetime | None = None

    def __post_init__(self) -> None:
        if self.weeks < 1:
            raise ValueError("a history needs at least 1 week")
        if min(self.invited_only, self.stopped) < 0 or self.invited_only + self.stopped > 1:
            raise ValueError("invited_only and stopped are shares that add up to at most 1")


@dataclass(frozen=True)
class CandidatePlan:
    """When one simulated candidate is invited and starts, and how many games they play."""

    invited_at: datetime
    #: None: only invited (never started)
    started_at: datetime | None
    #: None: every game of the assessment
    games_played: int | None = None


#: Relative invitation volume per weekday, Monday first (a working week, a quiet weekend).
WEEKDAY_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 0.9, 0.25, 0.15)
#: Invitations go out between these local hours.
WORKING_HOURS = (8.0, 19.0)
#: Start delay after the invitation: log-normal, median 18 hours (sigma 1 in log hours).
START_DELAY_MEDIAN_H = 18.0
START_DELAY_SIGMA = 1.0
#: A candidate who would still be playing now is treated as not started yet.
LONGEST_BATTERY = timedelta(hours=3)
#: Separate random streams of a seed: the history never changes the bots' draws.
_HISTORY_STREAM = 7


def weekly_volume(weeks: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """Invitations per week, oldest first: a programme growing from 0.6 to 1.4 times its
    average volume over the period, times log-normal week-to-week noise (sigma 0.25)."""
    ramp = np.linspace(0.6, 1.4, weeks) if weeks > 1 else np.ones(1)
    weights = ramp * rng.lognormal(0.0, 0.25, weeks)
    return rng.multinomial(count, weights / weights.sum())


def plan_history(
    count: int, history: History, rng: np.random.Generator, *, now: datetime, games: int
) -> list[CandidatePlan]:
    """Seeded invitation and start times over ``history.weeks``, oldest invitation first.

    Invitations fall on working days and hours (:data:`WEEKDAY_WEIGHTS`,
    :data:`WORKING_HOURS`, local time), never in the future; starts follow after a
    log-normal delay. A candidate whose battery could not be over by ``now`` has not
    started yet, as a recent invitee would not have.
    """
    tz = timezone.get_current_timezone()
    volume = weekly_volume(history.weeks, count, rng)
    origin = now - timedelta(weeks=history.weeks)
    plans: list[CandidatePlan] = []
    latest = now - timedelta(minutes=10)
    for week, invitations in enumerate(volume):
        first_day = timezone.localtime(origin + timedelta(weeks=week), tz).date()
        days = [first_day + timedelta(days=offset) for offset in range(7)]
        days = [day for day in days if day <= timezone.localtime(latest, tz).date()] or [days[0]]
        weights = np.array([WEEKDAY_WEIGHTS[day.weekday()] for day in days])
        for _ in range(int(invitations)):
            day = days[int(rng.choice(len(days), p=weights / weights.sum()))]
            hours = float(rng.uniform(*WORKING_HOURS))
            invited_at = datetime.combine(day, datetime.min.time(), tzinfo=tz) + timedelta(
                hours=hours
            )
            if invited_at > latest:  # today, later than now: earlier today instead
                invited_at = latest - timedelta(hours=float(rng.uniform(0, 6)))
            delay = timedelta(
                hours=float(rng.lognormal(np.log(START_DELAY_MEDIAN_H), START_DELAY_SIGMA))
            )
            started_at: datetime | None = invited_at + max(delay, timedelta(minutes=5))
            stage = float(rng.random())
            games_played: int | None = None
            if stage < history.invited_only:
                started_at = None
            elif stage < history.invited_only + history.stopped and games > 1:
                games_played = int(rng.integers(1, games))
            if started_at is not None and started_at + LONGEST_BATTERY > now:
                started_at, games_played = None, None
            plans.append(
                CandidatePlan(
                    invited_at=invited_at, started_at=started_at, games_played=games_played
                )
            )
    return sorted(plans, key=lambda plan: plan.invited_at)


def simulate_candidates(
    *,
    organization: Organization,
    assessment: Assessment,
    count: int,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
    external_id_prefix: str = "sim",
    history: History | None = None,
) -> list[SimulatedCandidate]:
    """Invite ``count`` bots to ``assessment`` and play their games through ingestion.

    Without ``history`` every bot plays every game now; with one, the bots follow
    :func:`plan_history` (see the module's docstring).
    """
    rng = np.random.default_rng(seed)
    plans: list[CandidatePlan | None] = [None] * count
    if history is not None:
        now = history.now or timezone.now()
        plans = list(
            plan_history(
                count,
                history,
                np.random.default_rng([seed, _HISTORY_STREAM]),
                now=now,
                games=len(assessment.games),
            )
        )
    simulated = []
    existing = assessment.attempts.count()
    for index, plan in enumerate(plans):
        invitation = candidate_invite(
            assessment=assessment,
            external_id=f"{external_id_prefix}-{seed}-{existing + index + 1:05d}",
            name=f"Simulated candidate {existing + index + 1}",
            is_simulated=True,
        )
        latents: dict[str, dict[str, float]] = {}
        bots: dict[str, Any] = {}
        played: list[tuple[int, float]] = []
        attempt = invitation.attempt
        if plan is None or plan.started_at is not None:
            # Schedules (burst points...) come from the simulation's seed too: same seed,
            # same run.
            attempt = attempt_start(
                attempt=invitation.attempt, source=GameSessionSource.SIMULATED, seed_rng=rng
            )
            sessions = GameSession.objects.filter(attempt=attempt).order_by("position")
            if plan is not None and plan.games_played is not None:
                sessions = sessions[: plan.games_played]
            for game_session in sessions:
                game = get_game(game_session.game)
                latent = game.sample_latent(rng)
                events = game.play(latent, rng, game_session.config)
                events_store_trusted(game_session_id=game_session.pk, events=events)
                play_complete_game_session(game_session_id=game_session.pk, attempt_id=attempt.pk)
                latents[game.key] = game.latent_values(latent)
                bots[game.key] = latent
                played.append((game_session.pk, float(events[-1]["t"]) if events else 0.0))
        if plan is not None:
            _backdate(attempt.pk, invitation.candidate.pk, plan, played, history_rng(seed, index))
        simulated.append(
            SimulatedCandidate(
                candidate_id=invitation.candidate.pk,
                latents=latents,
                attempt_id=attempt.pk,
                bots=bots,
            )
        )
        if progress is not None:
            progress(index + 1, count)
    if history is not None:
        scores_backdate(attempt_ids=[c.attempt_id for c in simulated])
    return simulated


def history_rng(seed: int, index: int) -> np.random.Generator:
    """The stream of one candidate's pauses between games (seeded, apart from the bots')."""
    return np.random.default_rng([seed, _HISTORY_STREAM, index])


#: Between consent and the first game (instructions, the lobby), and between games.
LOBBY_S = (60.0, 240.0)
BREAK_S = (15.0, 150.0)
#: A game ends this long after its last event (saving, the "done" screen).
GAME_END_S = 2.0
#: Metric sets are stored this long after their game ends; traits after the metrics.
METRICS_AFTER = timedelta(seconds=2)
TRAITS_AFTER = timedelta(seconds=3)


def _event_arrival(start: datetime) -> Expression:
    """An event's arrival time: its session's start plus its ``t`` (ms since the game began).

    PostgreSQL multiplies an interval by a number; SQLite stores durations as
    whole microseconds, so there the offset is cast to an integer count of them.
    """
    offset: Expression
    if connection.vendor == "postgresql":
        offset = F("t") * Value(timedelta(milliseconds=1), output_field=DurationField())
    else:
        offset = Cast(F("t") * Value(1000), output_field=BigIntegerField())
    return ExpressionWrapper(
        Value(start, output_field=DateTimeField())
        + ExpressionWrapper(offset, output_field=DurationField()),
        output_field=DateTimeField(),
    )


def _backdate(
    attempt_id: int,
    candidate_id: int,
    plan: CandidatePlan,
    played: Sequence[tuple[int, float]],
    rng: np.random.Generator,
) -> None:
    """Move what the pipeline stamped "now" for one candidate to the planned times."""
    expires_at = plan.invited_at + timedelta(days=settings.PYMETRICS_INVITE_TTL_DAYS)
    with transaction.atomic():
        Candidate.objects.filter(pk=candidate_id).update(
            created_at=plan.invited_at,
            consent_at=plan.started_at - timedelta(seconds=30) if plan.started_at else None,
        )
        attempt_fields: dict[str, Any] = {
            "created_at": plan.invited_at,
            "invite_expires_at": expires_at,
            "started_at": plan.started_at,
        }
        if plan.started_at is None:
            # what the hourly expiry job would have done by now
            if expires_at < timezone.now():
                attempt_fields["state"] = AttemptState.EXPIRED
            Attempt.objects.filter(pk=attempt_id).update(**attempt_fields)
            return
        GameSession.objects.filter(attempt_id=attempt_id).update(created_at=plan.started_at)
        clock = plan.started_at + timedelta(seconds=float(rng.uniform(*LOBBY_S)))
        last_completed: datetime | None = None
        for session_id, last_t_ms in played:
            started = clock
            last_completed = started + timedelta(milliseconds=last_t_ms, seconds=GAME_END_S)
            GameSession.objects.filter(pk=session_id).update(
                started_at=started, completed_at=last_completed
            )
            Event.objects.filter(game_session_id=session_id).update(
                received_at=_event_arrival(started)
            )
            clock = last_completed + timedelta(seconds=float(rng.uniform(*BREAK_S)))
        if plan.games_played is None:
            attempt_fields["completed_at"] = last_completed
        Attempt.objects.filter(pk=attempt_id).update(**attempt_fields)


def scores_backdate(*, attempt_ids: Sequence[int]) -> None:
    """Date the metric sets and trait scores of simulated attempts after the games behind them.

    A metric set is dated :data:`METRICS_AFTER` its session's end, trait scores
    :data:`TRAITS_AFTER` the attempt's last game. Only what exists is moved; running
    it again changes nothing.
    """
    ids = list(attempt_ids)
    session_end = GameSession.objects.filter(pk=OuterRef("game_session_id")).annotate(
        at=ExpressionWrapper(F("completed_at") + METRICS_AFTER, output_field=DateTimeField())
    )
    MetricSet.objects.filter(
        game_session__attempt_id__in=ids, game_session__completed_at__isnull=False
    ).update(computed_at=Subquery(session_end.values("at")[:1]))
    last_game = (
        GameSession.objects.filter(attempt_id=OuterRef("attempt_id"), completed_at__isnull=False)
        .annotate(
            at=ExpressionWrapper(F("completed_at") + TRAITS_AFTER, output_field=DateTimeField())
        )
        .order_by("-completed_at")
    )
    played = GameSession.objects.filter(attempt_id__in=ids, completed_at__isnull=False)
    TraitScore.objects.filter(attempt_id__in=played.values("attempt_id")).update(
        computed_at=Subquery(last_game.values("at")[:1])
    )


def recovery_measure(measure: str) -> tuple[str, float]:
    """The metric name and the direction in which it should follow its latent parameter.

    A recovery target ``"-hard_choice_rate"`` means the metric falls as the latent
    parameter (an effort cost, say) rises; the reported correlation is then the one
    with the negated metric, so 1.0 is perfect recovery either way.
    """
    if measure.startswith("-"):
        return measure[1:], -1.0
    return measure, 1.0


def _spearman(pairs: Sequence[tuple[float, float]]) -> float | None:
    if len(pairs) < 3:
        return None
    x, y = np.asarray(pairs, dtype=float).T
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    return float(spearmanr(x, y).statistic)


def parameter_recovery(
    simulated: Sequence[SimulatedCandidate], games: Sequence[str]
) -> list[Recovery]:
    """Spearman correlation between each latent parameter and the measure meant to recover it.

    A measure is a metric, or for a parameter of a few trials (a game's subscore
    targets) the augmented subscore computed across the simulated group.
    """
    candidate_ids = [c.candidate_id for c in simulated]
    stored: dict[tuple[int, str], dict[str, Any]] = {}
    configs: dict[tuple[int, str], dict[str, Any]] = {}
    for candidate_id, game, values, config in MetricSet.objects.filter(
        game_session__attempt__candidate_id__in=candidate_ids
    ).values_list("game_session__attempt__candidate_id", "game", "values", "game_session__config"):
        stored[(candidate_id, game)] = values
        configs[(candidate_id, game)] = config
    results = []
    for key in games:
        definition = get_game(key)
        for latent_name, measure in definition.recovery_targets.items():
            metric, sign = recovery_measure(measure)
            pairs = [
                (c.latents[key][latent_name], sign * stored[(c.candidate_id, key)][metric])
                for c in simulated
                if key in c.latents and metric in stored.get((c.candidate_id, key), {})
            ]
            results.append(
                Recovery(key, latent_name, measure, spearman=_spearman(pairs), n=len(pairs))
            )
        for latent_name, target in definition.subscore_targets.items():
            rows = [
                (
                    c.latents[key][latent_name],
                    stored[(c.candidate_id, key)][target.subscore],
                    stored[(c.candidate_id, key)][target.total],
                    *target.items(configs[(c.candidate_id, key)]),
                )
                for c in simulated
                if key in c.latents
                and {target.subscore, target.total} <= set(stored.get((c.candidate_id, key), {}))
            ]
            rho: float | None = None
            if len(rows) >= 3:
                truth, sub, total, sub_items, total_items = np.asarray(rows, dtype=float).T
                try:
                    estimate = augmented_subscores(sub, total, sub_items, total_items).values
                except ValueError:  # too little spread in a tiny group: nothing to report
                    estimate = None
                if estimate is not None:
                    rho = _spearman(list(zip(truth, estimate, strict=True)))
            results.append(Recovery(key, latent_name, target.label, spearman=rho, n=len(rows)))
    return results


def wait_for_scoring(
    simulated: Sequence[SimulatedCandidate], *, timeout_s: float = 3600.0, poll_s: float = 1.0
) -> int:
    """Wait until a worker has scored (or failed) every simulated game session.

    With tasks run in-process this returns at once; with a real broker the
    extraction runs on the workers, and recovery can only be read once it is done.
    Returns the number of sessions still waiting at the timeout (0 when all done).
    """
    attempt_ids = [c.attempt_id for c in simulated]
    deadline = time.monotonic() + timeout_s
    while True:
        waiting = GameSession.objects.filter(
            attempt_id__in=attempt_ids, state=GameSessionState.COMPLETED
        ).count()
        if waiting == 0 or time.monotonic() > deadline:
            return waiting
        time.sleep(poll_s)


@dataclass(frozen=True)
class TraitTarget:
    """A latent parameter of some game's bot that one of a trait's metrics measures."""

    game: str
    latent: str
    #: +1 when a higher parameter should raise the trait score, -1 when lower it
    sign: float

    @property
    def label(self) -> str:
        return f"{'-' if self.sign < 0 else ''}{self.game}.{self.latent}"


def trait_targets(trait_map: TraitMap, games: Sequence[str]) -> dict[str, list[TraitTarget]]:
    """For each trait, the bots' latent parameters behind its metrics, signed.

    A trait metric with sign s is matched with the latent parameter whose recovery
    target is that metric, or the metric it is a variant of (``<target>_<part>``, such
    as a block or a probability level), with direction d: the parameter then moves
    the trait in direction s * d. Metrics no bot parameter targets are skipped.
    """
    targets: dict[str, list[TraitTarget]] = {}
    for trait in trait_map.traits:
        found = []
        for metric in trait.metrics:
            if metric.game not in games:
                continue
            for latent, measure in get_game(metric.game).recovery_targets.items():
                name, direction = recovery_measure(measure)
                # a variant of the target metric (a block, a probability level: e.g.
                # hard_choice_rate_p12 of hard_choice_rate) is driven by the same parameter
                if metric.metric == name or metric.metric.startswith(f"{name}_"):
                    found.append(TraitTarget(metric.game, latent, metric.sign * direction))
        targets[trait.name] = found
    return targets


def _standardised(values: np.ndarray) -> np.ndarray:
    sd = values.std(ddof=1) if len(values) > 1 else 0.0
    return (values - values.mean()) / sd if sd > 0 else np.zeros_like(values)


def trait_recovery(
    simulated: Sequence[SimulatedCandidate],
    norm_table: NormTable,
    games: Sequence[str],
) -> list[Recovery]:
    """Spearman correlation between each trait's z and the latent composite behind it.

    The composite is the mean of the signed, standardised latent parameters that
    the trait's metrics measure (:func:`trait_targets`), across the simulated
    candidates; the measure is reported as ``trait:<name>``.
    """
    trait_map = TraitMap.from_dict(norm_table.trait_map.definition)
    targets = trait_targets(trait_map, games)
    by_attempt = {c.attempt_id: c for c in simulated}
    scores: dict[str, dict[int, float]] = {trait.name: {} for trait in trait_map.traits}
    for attempt_id, name, stored_z in TraitScore.objects.filter(
        attempt_id__in=list(by_attempt), norm_table=norm_table, scored=True
    ).values_list("attempt_id", "trait", "z"):
        if stored_z is not None:
            scores[name][attempt_id] = float(stored_z)
    results = []
    for trait in trait_map.traits:
        chosen = targets[trait.name]
        attempts = [a for a in by_attempt if a in scores[trait.name]]
        rho: float | None = None
        if chosen and len(attempts) >= 3:
            parts = [
                target.sign
                * _standardised(
                    np.array([by_attempt[a].latents[target.game][target.latent] for a in attempts])
                )
                for target in chosen
            ]
            composite = np.mean(parts, axis=0)
            trait_z = np.array([scores[trait.name][a] for a in attempts])
            if np.ptp(composite) > 0 and np.ptp(trait_z) > 0:
                rho = float(spearmanr(composite, trait_z).statistic)
        results.append(
            Recovery(
                game="+".join(sorted({t.game for t in chosen})) or "-",
                latent=" + ".join(t.label for t in chosen) or "(no bot parameter)",
                measure=f"trait:{trait.name}",
                spearman=rho,
                n=len(attempts) if chosen else 0,
            )
        )
    return results


@dataclass(frozen=True)
class RetestReliability:
    trait: str
    r: float | None
    n: int


def retest_reliability(
    simulated: Sequence[SimulatedCandidate],
    norm_table: NormTable,
    games: Sequence[str],
    *,
    seed: int,
) -> list[RetestReliability]:
    """Each trait's Pearson r between two independent plays by the same bots.

    Every simulated candidate plays every game twice more, with the same latent
    parameters but fresh schedules and trial noise (pure computation, nothing is
    stored); both sessions are scored against the same norm table and trait map.
    """
    trait_map = TraitMap.from_dict(norm_table.trait_map.definition)
    norms = NormTableData.from_dict(norm_table.data)
    reliabilities = {trait: entry["r"] for trait, entry in norm_table.reliabilities.items()}
    rng = np.random.default_rng(seed)
    people = pd.Index([c.attempt_id for c in simulated], name="person")
    plays: list[pd.DataFrame] = []
    for _ in range(2):
        per_game: list[pd.DataFrame] = []
        for key in games:
            game = get_game(key)
            frames = []
            for candidate in simulated:
                if key not in candidate.bots:
                    continue
                config = game.make_config(int(rng.integers(0, 2**31 - 1)))
                events = pd.DataFrame(
                    game.play(candidate.bots[key], rng, config),
                    columns=["seq", "t", "type", "data"],
                )
                events.insert(0, "session", candidate.attempt_id)
                frames.append(events)
            if not frames:
                continue
            stream = pd.concat(frames, ignore_index=True)
            trials = game.events_to_trials(stream[stream["type"].isin(game.trial_event_types)])
            per_game.append(game.extract(trials).metrics.add_prefix(f"{key}.").reindex(people))
        metrics = pd.concat(per_game, axis=1) if per_game else pd.DataFrame(index=people)
        inferred = infer_traits(metrics.astype("float64"), norms, trait_map, reliabilities)
        plays.append(inferred.pivot(index="person", columns="trait", values="z"))
    first, second = plays
    results = []
    for trait in trait_map.traits:
        both = pd.concat([first[trait.name], second[trait.name]], axis=1).dropna()
        r: float | None = None
        if len(both) >= 3 and both.iloc[:, 0].std() > 0 and both.iloc[:, 1].std() > 0:
            r = float(np.corrcoef(both.iloc[:, 0], both.iloc[:, 1])[0, 1])
        results.append(RetestReliability(trait=trait.name, r=r, n=len(both)))
    return results
