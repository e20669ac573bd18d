"""Key rotation: re-encrypt every encrypted column with the newest key, online.

:func:`encryption_keys_rotate` walks every model with an
:class:`~pymetrics.common.crypto.EncryptedTextField` (found in the model registry),
``batch_size`` rows at a time in primary-key order, and for each row whose
ciphertext the newest key did not make, or whose blind index is not the newest
key's, writes the new ciphertext and index. The application keeps running: it
reads with every configured key meanwhile and writes with the newest.

Each row is written by an ``UPDATE`` guarded by the ciphertexts it was read with,
so a write made by the application between the read and the update is never
overwritten: the guard then matches nothing, the row is read again and looked at
anew (the application wrote it with the newest key, so usually nothing is left to
do). Each batch is its own short transaction. A row the newest key already opens
and whose index is current costs one decryption and one HMAC, no write: a second
run changes nothing, and an interrupted run resumes by simply running again.

A value no configured key opens leaves its row untouched; the report lists it
(model, field, id: never a value), and the command exits with an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import InvalidToken
from django.db import models, transaction
from django.db.models import ExpressionWrapper, F, TextField, Value
from django.db.models.lookups import Exact, IsNull

from pymetrics.accounts.services import audit_log_record
from pymetrics.common.crypto import (
    blind_indexed_fields,
    decrypt_with_newest_key,
    encrypted_fields,
    encryption_keys,
    fernet,
)

#: Rows read and written per transaction.
BATCH_SIZE = 500
#: How often a row changed by the application during its rotation is read again.
MAX_RETRIES = 3


@dataclass(frozen=True)
class Undecryptable:
    """A stored value none of the configured keys opens (its row is left as it is)."""

    model: str
    field: str
    pk: Any


@dataclass
class ModelRotation:
    """What the rotation did (or, in a dry run, would do) to one model's rows."""

    model: str
    fields: list[str]
    total: int = 0
    checked: int = 0
    reencrypted: int = 0
    reindexed: int = 0
    #: rows the application wrote between their read and their update (read again)
    changed_meanwhile: int = 0
    #: rows still changing after MAX_RETRIES reads: the next run does them
    left_for_next_run: int = 0
    undecryptable: list[Undecryptable] = field(default_factory=list)

    def as_counts(self) -> dict[str, int]:
        return {
            "rows": self.checked,
            "reencrypted": self.reencrypted,
            "reindexed": self.reindexed,
            "changed_meanwhile": self.changed_meanwhile,
            "left_for_next_run": self.left_for_next_run,
            "undecryptable": len(self.undecryptable),
        }


@dataclass(frozen=True)
class RotationReport:
    dry_run: bool
    keys: int
    models: list[ModelRotation]

    @property
    def undecryptable(self) -> list[Undecryptable]:
        return [item for rotation in self.models for item in rotation.undecryptable]

    def total(self, name: str) -> int:
        return sum(rotation.as_counts()[name] for rotation in self.models)


def _raw(name: str) -> ExpressionWrapper:
    """The column's stored ciphertext: a plain text expression skips the field's decryption."""
    return ExpressionWrapper(F(name), output_field=TextField())


def _raw_alias(name: str) -> str:
    return f"rotation_raw_{name}"


@dataclass(frozen=True)
class _RowPlan:
    pk: Any
    #: the ciphertexts read (the update's guard)
    tokens: dict[str, str | None]
    #: column -> new value (new ciphertexts and indexes)
    changes: dict[str, str]
    reencrypted: bool
    reindexed: bool


class _ModelRotator:
    """Reads, plans and writes one model's rows."""

    def __init__(self, model: type[models.Model], names: list[str]) -> None:
        self.model = model
        self.names = names
        self.indexed = blind_indexed_fields(model)
        self.report = ModelRotation(model=model._meta.label, fields=list(names))
        self.columns = [
            *[_raw_alias(name) for name in names],
            *{spec.index_field for spec in self.indexed},
            *{spec.scope_field for spec in self.indexed},
        ]

    def _rows(self) -> models.QuerySet[Any]:
        return self.model._base_manager.annotate(
            **{_raw_alias(name): _raw(name) for name in self.names}
        ).order_by("pk")

    def read(self, *, after: Any, limit: int) -> list[dict[str, Any]]:
        rows = self._rows()
        if after is not None:
            rows = rows.filter(pk__gt=after)
        return list(rows.values("pk", *self.columns)[:limit])

    def read_one(self, pk: Any) -> dict[str, Any] | None:
        return self._rows().filter(pk=pk).values("pk", *self.columns).first()

    def plan(self, row: dict[str, Any]) -> _RowPlan | None:
        """The row's new ciphertexts and indexes; None when a value cannot be decrypted."""
        tokens: dict[str, str | None] = {}
        plaintexts: dict[str, str] = {}
        changes: dict[str, str] = {}
        for name in self.names:
            token = row[_raw_alias(name)]
            tokens[name] = token
            if token is None or token == "":  # an empty column value  # nosec B105
                plaintexts[name] = ""
                continue
            current = decrypt_with_newest_key(token)
            if current is not None:
                plaintexts[name] = current
                continue
            try:
                plaintexts[name] = fernet().decrypt(token.encode("ascii")).decode()
                # keeps the token's timestamp; encrypted again with the newest key
                changes[name] = fernet().rotate(token.encode("ascii")).decode("ascii")
            except (InvalidToken, UnicodeError):
                self.report.undecryptable.append(
                    Undecryptable(model=self.report.model, field=name, pk=row["pk"])
                )
                return None
        reencrypted = bool(changes)
        reindexed = False
        for spec in self.indexed:
            expected = spec.index.current(
                plaintexts.get(spec.field, ""), scope=row[spec.scope_field]
            )
            if row[spec.index_field] != expected:
                changes[spec.index_field] = expected
                reindexed = True
        return _RowPlan(
            pk=row["pk"],
            tokens=tokens,
            changes=changes,
            reencrypted=reencrypted,
            reindexed=reindexed,
        )

    def write(self, plan: _RowPlan) -> bool:
        """The guarded update: True when the row still held the ciphertexts read."""
        guards = [
            IsNull(_raw(name), True) if token is None else Exact(_raw(name), token)
            for name, token in plan.tokens.items()
        ]
        values = {
            column: Value(value, output_field=TextField()) if column in self.names else value
            for column, value in plan.changes.items()
        }
        return bool(self.model._base_manager.filter(*guards, pk=plan.pk).update(**values))

    def count(self, plan: _RowPlan) -> None:
        self.report.reencrypted += plan.reencrypted
        self.report.reindexed += plan.reindexed

    def apply(self, row: dict[str, Any], *, dry_run: bool) -> None:
        plan = self.plan(row)
        if plan is None or not plan.changes:
            return
        if dry_run:
            self.count(plan)
            return
        for _ in range(MAX_RETRIES):
            if self.write(plan):
                self.count(plan)
                return
            self.report.changed_meanwhile += 1
            fresh = self.read_one(plan.pk)
            if fresh is None:  # deleted meanwhile: nothing left to rotate
                return
            plan = self.plan(fresh)
            if plan is None or not plan.changes:
                return
        self.report.left_for_next_run += 1


def encryption_keys_rotate(
    *,
    batch_size: int = BATCH_SIZE,
    dry_run: bool = False,
    progress: Callable[[ModelRotation], None] | None = None,
) -> RotationReport:
    """Re-encrypt every encrypted column with the newest key and recompute blind indexes.

    ``progress`` is called after each batch with the model's running counts. A dry
    run reads and decrypts everything and counts what would change, writing nothing
    but its audit entry. Audit-logged as the platform (no actor), with the counts.
    """
    rotations = []
    for model, names in encrypted_fields():
        rotator = _ModelRotator(model, names)
        rotator.report.total = model._base_manager.count()
        last_pk = None
        while True:
            rows = rotator.read(after=last_pk, limit=batch_size)
            if not rows:
                break
            last_pk = rows[-1]["pk"]
            with transaction.atomic():
                for row in rows:
                    rotator.apply(row, dry_run=dry_run)
            rotator.report.checked += len(rows)
            if progress is not None:
                progress(rotator.report)
        rotations.append(rotator.report)
    report = RotationReport(dry_run=dry_run, keys=len(encryption_keys()), models=rotations)
    audit_log_record(
        actor=None,
        action="encryption.keys_rotate",
        object_type="encryption_keys",
        details={
            "dry_run": dry_run,
            "keys": report.keys,
            "models": {rotation.model: rotation.as_counts() for rotation in rotations},
        },
    )
    return report
