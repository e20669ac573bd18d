"""``rotate_keys [--dry-run] [--batch-size N]``: re-encrypt personal data with the newest key.

Run after deploying a new key at the head of ``PYMETRICS_ENCRYPTION_KEYS`` (the old
ones still after it), while the application runs; remove the old key only once a
run reports nothing left to do (docs/security.md, "Key rotation"). Progress goes
to stderr (one line per batch and model), the summary to stdout. Exits with status
1 when a stored value can be decrypted by no configured key (naming where, never
what). The work is :func:`pymetrics.ops.key_rotation.encryption_keys_rotate`.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pymetrics.ops.key_rotation import BATCH_SIZE, ModelRotation, encryption_keys_rotate

#: Undecryptable values named in the error (all are counted).
_NAMED = 20


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError(raw)
    return value


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted column with the newest of PYMETRICS_ENCRYPTION_KEYS "
        "and recompute the blind indexes, in batches, while the application runs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="count what would be re-encrypted or re-indexed; write nothing",
        )
        parser.add_argument(
            "--batch-size",
            type=_positive,
            default=BATCH_SIZE,
            metavar="N",
            help=f"rows per transaction (default {BATCH_SIZE})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = options["dry_run"]
        verb = "would re-encrypt" if dry_run else "re-encrypted"

        def progress(rotation: ModelRotation) -> None:
            self.stderr.write(
                f"{rotation.model}: {rotation.checked}/{rotation.total} rows checked, "
                f"{verb} {rotation.reencrypted}, indexes {rotation.reindexed}"
            )
            self.stderr.flush()

        report = encryption_keys_rotate(
            batch_size=options["batch_size"], dry_run=dry_run, progress=progress
        )
        heading = "Dry run: nothing written." if dry_run else "Key rotation finished."
        self.stdout.write(f"{heading} Keys configured: {report.keys}.")
        for rotation in report.models:
            counts = rotation.as_counts()
            self.stdout.write(
                f"  {rotation.model} ({', '.join(rotation.fields)}): {counts['rows']} rows, "
                f"{verb} {counts['reencrypted']}, indexes updated {counts['reindexed']}, "
                f"changed meanwhile {counts['changed_meanwhile']}, "
                f"left for the next run {counts['left_for_next_run']}, "
                f"undecryptable {counts['undecryptable']}"
            )
        self.stdout.write(
            f"Total: {report.total('rows')} rows, {verb} {report.total('reencrypted')}, "
            f"indexes updated {report.total('reindexed')}."
        )
        left = report.total("left_for_next_run")
        if left and not dry_run:
            self.stdout.write(
                f"{left} rows kept changing while they were rotated: run rotate_keys again."
            )
        undecryptable = report.undecryptable
        if undecryptable:
            named = ", ".join(
                f"{item.model}.{item.field} id={item.pk}" for item in undecryptable[:_NAMED]
            )
            more = f" and {len(undecryptable) - _NAMED} more" if len(undecryptable) > _NAMED else ""
            raise CommandError(
                f"{len(undecryptable)} stored values can be decrypted by none of "
                f"PYMETRICS_ENCRYPTION_KEYS (their rows were left unchanged): {named}{more}. "
                "Add the key that encrypted them to PYMETRICS_ENCRYPTION_KEYS (after the "
                "newest) and run rotate_keys again; do not remove any key until this passes."
            )
        if not dry_run and not left:
            self.stdout.write(
                "Every encrypted value is under the newest key: older keys may now be removed."
            )
