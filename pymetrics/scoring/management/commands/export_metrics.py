"""``export_metrics [--org SLUG] [--game GAME] [--assessment NAME] [--format F] [--output P]``.

One row per (participant, game, metric), streamed, so large exports stay small in memory.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pymetrics.accounts.selectors import organization_by_slug
from pymetrics.accounts.services import audit_log_record
from pymetrics.games.registry import UnknownGameError, get_game
from pymetrics.scoring.exports import write_rows
from pymetrics.scoring.selectors import metric_rows


class Command(BaseCommand):
    help = "Export stored metrics: participant,game,metric,value (CSV or JSON lines)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", default="default", help="organisation slug")
        parser.add_argument("--game")
        parser.add_argument("--assessment", help="assessment name")
        parser.add_argument("--format", choices=("csv", "jsonl"), default="csv")
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = organization_by_slug(slug=options["org"])
        if organization is None:
            raise CommandError(f"no organisation with slug {options['org']!r}")
        if options["game"]:
            try:
                get_game(options["game"])
            except UnknownGameError as error:
                raise CommandError(str(error)) from None
        rows = metric_rows(
            organization=organization, game=options["game"], assessment_name=options["assessment"]
        )
        count = write_rows(
            (
                {"participant": r.participant, "game": r.game, "metric": r.metric, "value": r.value}
                for r in rows
            ),
            ("participant", "game", "metric", "value"),
            fmt=options["format"],
            output=options["output"],
        )
        audit_log_record(
            actor=None,
            organization=organization,
            action="metrics.export",
            object_type="organization",
            object_id=organization.pk,
            details={
                "game": options["game"],
                "assessment": options["assessment"],
                "rows": count,
                "format": options["format"],
            },
        )
        if options["output"]:
            self.stderr.write(f"wrote {count} rows to {options['output']}")
