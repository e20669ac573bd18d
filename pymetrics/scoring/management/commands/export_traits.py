"""``export_traits [--org SLUG] [--assessment NAME] [--format csv|jsonl] [--output PATH]``.

One row per (participant, trait): ``participant,trait,score,percentile,ci_low,ci_high``,
scored against the organisation's current norm table; streamed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pymetrics.accounts.selectors import organization_by_slug
from pymetrics.accounts.services import audit_log_record
from pymetrics.scoring.exports import write_rows
from pymetrics.scoring.selectors import current_norm_table, trait_rows

COLUMNS = ("participant", "trait", "score", "percentile", "ci_low", "ci_high")


class Command(BaseCommand):
    help = (
        "Export trait scores: participant,trait,score,percentile,ci_low,ci_high "
        "(score and interval in z units, 90% interval; CSV or JSON lines)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", default="default", help="organisation slug")
        parser.add_argument("--assessment", help="assessment name")
        parser.add_argument("--format", choices=("csv", "jsonl"), default="csv")
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = organization_by_slug(slug=options["org"])
        if organization is None:
            raise CommandError(f"no organisation with slug {options['org']!r}")
        table = current_norm_table(organization_id=organization.pk)
        if table is None:
            raise CommandError(
                "no norm table applies to this organisation yet; build one with build_norms"
            )
        rows = trait_rows(organization=organization, assessment_name=options["assessment"])
        count = write_rows(
            (
                {
                    "participant": r.participant,
                    "trait": r.trait,
                    "score": r.score,
                    "percentile": r.percentile,
                    "ci_low": r.ci_low,
                    "ci_high": r.ci_high,
                }
                for r in rows
            ),
            COLUMNS,
            fmt=options["format"],
            output=options["output"],
        )
        audit_log_record(
            actor=None,
            organization=organization,
            action="traits.export",
            object_type="organization",
            object_id=organization.pk,
            details={
                "rows": count,
                "assessment": options["assessment"],
                "norm_table": f"{table.name} v{table.version}",
            },
        )
        if options["output"]:
            self.stderr.write(f"wrote {count} rows to {options['output']}")
