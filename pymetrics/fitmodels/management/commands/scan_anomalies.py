"""``scan_anomalies --org SLUG [--game GAME ...]``: queue suspicious sessions for review.

Fits the anomaly detector on the organisation's scored sessions of each game (every
game by default) and puts the suspicious ones in the review queue with their
reasons. A game with too few scored sessions is skipped, with the reason.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pymetrics.accounts.models import Organization
from pymetrics.common.errors import DomainError
from pymetrics.fitmodels.anomaly_services import anomaly_scan
from pymetrics.games.registry import game_keys


class Command(BaseCommand):
    help = "Scan scored game sessions for bot-like or otherwise anomalous play."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="organisation slug")
        parser.add_argument(
            "--game", action="append", choices=game_keys(), help="a game (repeatable)"
        )
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"--org {options['org']!r}: no such organisation")
        for game in options["game"] or game_keys():
            try:
                summary = anomaly_scan(organization=organization, game=game, seed=options["seed"])
            except DomainError as error:
                self.stdout.write(f"{game}: skipped: {error.message}")
                continue
            self.stdout.write(
                f"{game}: {summary.sessions} sessions, {summary.suspicious} suspicious "
                "in the review queue"
            )
