"""``verify_audit_log [--anchor PLACE:HASH ...] [--no-seal]``: check the audit log's hash chain."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pymetrics.accounts.audit_chain import ChainHead, audit_log_seal, audit_log_verify


class Command(BaseCommand):
    help = (
        "Verify the audit log: every sealed entry matches its hash and follows the one "
        "before it, no place in the chain is missing, and the chain still holds the given "
        "anchors (heads logged by the sealer). Exit status 1 when anything is wrong."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="PLACE:HASH",
            help="a chain head as logged by the sealer ('audit chain sealed ...; head "
            "PLACE:HASH'); repeatable. Detects a chain cut short or rewritten.",
        )
        parser.add_argument(
            "--no-seal",
            action="store_true",
            help="only read: do not seal the entries written since the sealer's last run",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            anchors = tuple(ChainHead.parse(text) for text in options["anchor"])
        except ValueError as error:
            raise CommandError(str(error)) from error
        if not options["no_seal"]:
            sealed = audit_log_seal()
            if sealed.sealed:
                self.stdout.write(f"sealed {sealed.sealed:,} new entries first")
        result = audit_log_verify(anchors=anchors)
        self.stdout.write(f"checked {result.checked:,} entries")
        if result.head is not None:
            self.stdout.write(f"head {result.head}")
        if result.unsealed:
            self.stdout.write(f"{result.unsealed:,} entries not sealed yet")
        if result.ok:
            self.stdout.write(self.style.SUCCESS("the audit log is intact"))
            return
        for problem in result.problems:
            self.stderr.write(problem)
        if result.more_problems:
            self.stderr.write(f"... and {result.more_problems:,} more problems")
        count = len(result.problems) + result.more_problems
        raise CommandError(
            f"the audit log has been tampered with: {count} problem{'s' if count != 1 else ''}"
        )
