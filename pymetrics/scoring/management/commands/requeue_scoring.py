"""``requeue_scoring [--waited-min N] [--dry-run]``: queue again the games nobody scored.

For after the broker lost its queue (a Redis restart without persistence, a
failover): the games completed meanwhile wait in ``completed`` for ever, and the
scoring alerts fire. Extraction is idempotent, so a game whose task was only slow,
not lost, is scored once all the same (docs/operations.md, "Backups, restore and
upgrades").
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from pymetrics.scoring.selectors import game_sessions_waiting_for_scores
from pymetrics.scoring.tasks import extract_game_session_metrics


class Command(BaseCommand):
    help = (
        "Queue the metric extraction again for every played game that has waited more "
        "than --waited-min minutes to be scored (its task was lost), then its traits."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--waited-min",
            type=float,
            default=10.0,
            help="only games completed at least this many minutes ago (default 10: well "
            "beyond the scoring lag's red limit of 5)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="say how many games wait; queue nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        waited_min: float = options["waited_min"]
        if waited_min < 0:
            raise CommandError("--waited-min must be 0 or more")
        cutoff = timezone.now() - timedelta(minutes=waited_min)
        ids = game_sessions_waiting_for_scores(completed_before=cutoff)
        if options["dry_run"]:
            self.stdout.write(
                f"{len(ids)} game(s) completed over {waited_min:g} min ago wait to be scored"
            )
            return
        for game_session_id in ids:
            extract_game_session_metrics.delay(game_session_id)
        self.stdout.write(
            f"queued the scoring of {len(ids)} game(s) completed over {waited_min:g} min ago"
        )
