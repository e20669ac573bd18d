"""``build_norms --population {assessment|organisation|simulated} --name NAME``.

Builds the next version of a norm table and re-scores every attempt it applies to.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pymetrics.accounts.selectors import organization_by_slug
from pymetrics.assessments.models import Assessment
from pymetrics.common.errors import DomainError
from pymetrics.scoring.models import NormPopulation
from pymetrics.scoring.services import (
    DEFAULT_SIMULATED_PLAYERS,
    norm_table_build,
    traits_reinfer_for_norm_table,
)


class Command(BaseCommand):
    help = (
        "Build a versioned norm table (per-metric and per-trait distributions) from an "
        "assessment's or an organisation's scored candidates, or from a simulated "
        "reference population of bots, then re-score the attempts it applies to."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--population", required=True, choices=NormPopulation.values)
        parser.add_argument("--name", required=True, help="norm table name; versions count up")
        parser.add_argument(
            "--org",
            help="organisation slug (required for assessment/organisation; for simulated, "
            "makes the table that organisation's own instead of the shared reference)",
        )
        parser.add_argument("--assessment", help="assessment name (population assessment)")
        parser.add_argument(
            "--players",
            type=int,
            default=DEFAULT_SIMULATED_PLAYERS,
            help=f"simulated players per game (default {DEFAULT_SIMULATED_PLAYERS})",
        )
        parser.add_argument("--seed", type=int, default=0, help="seed of the simulated players")
        parser.add_argument("--trait-map", type=int, default=1, help="trait map version")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = None
        if options["org"]:
            organization = organization_by_slug(slug=options["org"])
            if organization is None:
                raise CommandError(f"no organisation with slug {options['org']!r}")
        assessment = None
        if options["assessment"]:
            if organization is None:
                raise CommandError("--assessment needs --org")
            assessment = Assessment.objects.filter(
                organization=organization, name=options["assessment"]
            ).first()
            if assessment is None:
                raise CommandError(
                    f"no assessment {options['assessment']!r} in organisation {options['org']!r}"
                )
        if options["population"] == NormPopulation.SIMULATED:
            self.stderr.write(
                f"simulating {options['players']} players of every game (seed {options['seed']})…"
            )
        try:
            table = norm_table_build(
                population=options["population"],
                name=options["name"],
                organization=organization,
                assessment=assessment,
                players=options["players"],
                seed=options["seed"],
                trait_map_version=options["trait_map"],
            )
        except DomainError as error:
            raise CommandError(error.message) from None
        label = " (simulated population)" if table.is_simulated else ""
        self.stdout.write(
            f"norm table {table.name!r} v{table.version}{label}: {table.n_attempts} people, "
            f"{len(table.data['metrics'])} metrics, trait map v{table.trait_map.version}"
        )
        for trait, entry in table.reliabilities.items():
            self.stdout.write(
                f"  {trait:<16} reliability {entry['r']:.3f} ({entry['source']}, n={entry['n']})"
            )
        summary = traits_reinfer_for_norm_table(norm_table=table)
        self.stdout.write(
            f"re-scored {summary.attempts} attempts: {summary.scored_traits} traits scored, "
            f"{summary.unscored_traits} not scorable"
        )
