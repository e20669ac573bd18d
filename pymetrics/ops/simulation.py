"""Simulated candidates: bots with known latent parameters played through the pipeline.

Each bot's events go through the same ingestion, completion and extraction code
as a browser's, so parameter recovery checks the whole path, not just the maths.
Simulated candidates are marked ``is_simulated`` and shown as simulated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from pymetrics.accounts.models import Organization
from pymetrics.assessments.models import Assessment, GameSession, GameSessionSource
from pymetrics.assessments.services import attempt_start, candidate_invite
from pymetrics.events.services import events_store_trusted
from pymetrics.games.registry import get_game
from pymetrics.play.services import play_complete_game_session
from pymetrics.scoring.models import MetricSet


@dataclass(frozen=True)
class SimulatedCandidate:
    candidate_id: int
    #: game key -> latent parameters of the bot that played it
    latents: dict[str, dict[str, float]]


@dataclass(frozen=True)
class Recovery:
    game: str
    latent: str
    measure: str
    spearman: float | None
    n: int


def simulate_candidates(
    *,
    organization: Organization,
    assessment: Assessment,
    count: int,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
    external_id_prefix: str = "sim",
) -> list[SimulatedCandidate]:
    """Invite ``count`` bots to ``assessment`` and play every game through ingestion."""
    rng = np.random.default_rng(seed)
    simulated = []
    existing = assessment.attempts.count()
    for index in range(count):
        invitation = candidate_invite(
            assessment=assessment,
            external_id=f"{external_id_prefix}-{seed}-{existing + index + 1:05d}",
            name=f"Simulated candidate {existing + index + 1}",
            is_simulated=True,
        )
        # Schedules (burst points...) come from the simulation's seed too: same seed, same run.
        attempt = attempt_start(
            attempt=invitation.attempt, source=GameSessionSource.SIMULATED, seed_rng=rng
        )
        latents: dict[str, dict[str, float]] = {}
        for game_session in GameSession.objects.filter(attempt=attempt).order_by("position"):
            game = get_game(game_session.game)
            latent = game.sample_latent(rng)
            events = game.play(latent, rng, game_session.config)
            events_store_trusted(game_session_id=game_session.pk, events=events)
            play_complete_game_session(game_session_id=game_session.pk, attempt_id=attempt.pk)
            latents[game.key] = {k: float(v) for k, v in dataclasses.asdict(latent).items()}
        simulated.append(SimulatedCandidate(candidate_id=invitation.candidate.pk, latents=latents))
        if progress is not None:
            progress(index + 1, count)
    return simulated


def recovery_measure(measure: str) -> tuple[str, float]:
    """The metric name and the direction in which it should follow its latent parameter.

    A recovery target ``"-hard_choice_rate"`` means the metric falls as the latent
    parameter (an effort cost, say) rises; the reported correlation is then the one
    with the negated metric, so 1.0 is perfect recovery either way.
    """
    if measure.startswith("-"):
        return measure[1:], -1.0
    return measure, 1.0


def parameter_recovery(
    simulated: Sequence[SimulatedCandidate], games: Sequence[str]
) -> list[Recovery]:
    """Spearman correlation between each latent parameter and the metric meant to measure it."""
    candidate_ids = [c.candidate_id for c in simulated]
    stored: dict[tuple[int, str], dict[str, Any]] = {}
    for candidate_id, game, values in MetricSet.objects.filter(
        game_session__attempt__candidate_id__in=candidate_ids
    ).values_list("game_session__attempt__candidate_id", "game", "values"):
        stored[(candidate_id, game)] = values
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
            rho: float | None = None
            if len(pairs) >= 3:
                x, y = np.asarray(pairs, dtype=float).T
                if np.ptp(x) > 0 and np.ptp(y) > 0:
                    rho = float(spearmanr(x, y).statistic)
            results.append(
                Recovery(game=key, latent=latent_name, measure=measure, spearman=rho, n=len(pairs))
            )
    return results
