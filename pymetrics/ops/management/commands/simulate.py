"""``simulate --candidates N [--games a,b] [--seed S] [--report PATH]``.

Drives simulated candidates with known latent parameters through ingestion, metric
extraction and trait inference, then reports how well each metric and each trait
recovers the parameters it is meant to measure (Spearman correlation), and each
trait's test-retest reliability (the same bots playing twice more).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pymetrics.accounts.services import organization_get_or_create
from pymetrics.assessments.services import assessment_get_or_create
from pymetrics.games.registry import UnknownGameError, game_keys, get_game
from pymetrics.ops.simulation import (
    parameter_recovery,
    retest_reliability,
    simulate_candidates,
    trait_recovery,
    wait_for_scoring,
)
from pymetrics.scoring.models import NormPopulation
from pymetrics.scoring.selectors import current_norm_table
from pymetrics.scoring.services import norm_table_build, traits_infer

#: Smallest simulated reference population built for a simulation without norms.
MIN_NORM_PLAYERS = 200


class Command(BaseCommand):
    help = "Play simulated candidates through the pipeline and report parameter recovery."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--candidates", type=int, required=True)
        parser.add_argument("--games", help="comma-separated game keys (default: every game)")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--report", help="write the JSON report to this path")
        parser.add_argument("--org", default="simulation", help="organisation slug to use")
        parser.add_argument(
            "--timeout",
            type=float,
            default=3600.0,
            help="seconds to wait for workers to score the sessions (with a real broker)",
        )
        parser.add_argument(
            "--norm-players",
            type=int,
            help="bots per game in the simulated norms built when none apply "
            f"(default: the number of candidates, at least {MIN_NORM_PLAYERS})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count = options["candidates"]
        if count < 1:
            raise CommandError("--candidates must be at least 1")
        games = options["games"].split(",") if options["games"] else game_keys()
        try:
            games = [get_game(key.strip()).key for key in games]
        except UnknownGameError as error:
            raise CommandError(str(error)) from None
        organization = organization_get_or_create(slug=options["org"], name="Simulation")
        assessment = assessment_get_or_create(
            organization=organization,
            name=f"Simulation {'+'.join(games)} seed {options['seed']}",
            games=games,
        )
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            if done == total or done % max(1, total // 10) == 0:
                sys.stderr.write(f"simulated {done}/{total} candidates\n")

        simulated = simulate_candidates(
            organization=organization,
            assessment=assessment,
            count=count,
            seed=options["seed"],
            progress=progress,
        )
        waiting = wait_for_scoring(simulated, timeout_s=options["timeout"])
        if waiting:
            raise CommandError(
                f"{waiting} game sessions were still unscored after {options['timeout']} s; "
                "is a Celery worker running?"
            )
        recovery = parameter_recovery(simulated, games)
        norm_table = current_norm_table(organization_id=organization.pk)
        if norm_table is None:
            players = options["norm_players"] or max(count, MIN_NORM_PLAYERS)
            sys.stderr.write(
                f"no norms apply to {organization.slug!r}: building simulated reference norms "
                f"({players} bots per game)\n"
            )
            norm_table = norm_table_build(
                population=NormPopulation.SIMULATED,
                name="Simulation reference",
                organization=organization,
                players=players,
                seed=options["seed"] + 100_003,
            )
        traits_infer(attempt_ids=[c.attempt_id for c in simulated])
        recovery += trait_recovery(simulated, norm_table, games)
        retest = retest_reliability(simulated, norm_table, games, seed=options["seed"] + 7)
        report = {
            "candidates": count,
            "seed": options["seed"],
            "games": games,
            "simulated": True,
            "seconds": round(time.perf_counter() - started, 2),
            "recovery": [
                {
                    "game": r.game,
                    "latent": r.latent,
                    "measure": r.measure,
                    "spearman": None if r.spearman is None else round(r.spearman, 4),
                    "n": r.n,
                }
                for r in recovery
            ],
            "norm_table": {
                "name": norm_table.name,
                "version": norm_table.version,
                "simulated": norm_table.is_simulated,
            },
            "test_retest": [
                {"trait": t.trait, "r": None if t.r is None else round(t.r, 4), "n": t.n}
                for t in retest
            ],
        }
        for r in report["recovery"]:
            self.stdout.write(
                f"{r['game']:<12} {r['latent']:<20} -> {r['measure']:<24} "
                f"spearman={r['spearman']} (n={r['n']})"
            )
        for t in report["test_retest"]:
            self.stdout.write(f"test-retest  {t['trait']:<20} r={t['r']} (n={t['n']})")
        if options["report"]:
            with open(options["report"], "w", encoding="utf-8") as handle:
                json.dump(report, handle, indent=2)
            self.stdout.write(f"report written to {options['report']}")
