"""The audit log's hash chain: sealing entries into it, and verifying it.

Entries are written unsealed, on the request's hot path, by
:func:`pymetrics.accounts.services.audit_log_record` (one insert, no lock). A
single sealer (:func:`audit_log_seal`, run by beat every few seconds and before
every verification) then takes the unsealed entries in id order and gives each
the next place in the chain, the hash of the entry before it and its own hash::

    entry_hash = SHA-256(prev_hash + "\\n" + canonical JSON of the entry and its place)

Chaining at insert time would serialise every audited request on one lock held
until its transaction commits (ADR 18). Like a transparency log's merge delay, an
entry is unprotected by the chain for at most one sealing interval; the database
refuses deletes and edits meanwhile (migration 0003's trigger on PostgreSQL).

:func:`audit_log_verify` walks the chain: a changed entry no longer matches its
hash, a deleted one leaves a gap in the places, and a rewritten chain no longer
contains the heads the sealer logged (``pymetrics.audit`` log lines, kept outside
the database: pass one as an anchor).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from pymetrics.accounts.models import AuditLog

logger = logging.getLogger("pymetrics.audit")

#: Entries sealed per transaction: the sealer holds its lock for one batch at a time.
SEAL_BATCH = 2000
#: Any two-key advisory lock id unique to the sealer ("audit" in ASCII, then 1).
_SEAL_LOCK = (0x61756469, 1)
#: The columns an entry's hash covers, in this order, besides its place in the chain.
HASHED_FIELDS = (
    "id",
    "organization_id",
    "actor_id",
    "api_key_id",
    "action",
    "object_type",
    "object_id",
    "at",
    "ip_address",
    "details",
)
_LOADED = (*HASHED_FIELDS, "chain_seq", "prev_hash", "entry_hash")


def canonical_entry(entry: dict[str, Any], *, chain_seq: int) -> bytes:
    """The bytes an entry's hash is computed over: sorted-key JSON of what it says."""
    document: dict[str, Any] = {name: entry[name] for name in HASHED_FIELDS}
    moment = document["at"]
    if isinstance(moment, datetime):
        document["at"] = moment.astimezone(UTC).isoformat(timespec="microseconds")
    document["seq"] = chain_seq
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def entry_hash(prev_hash: str, entry: dict[str, Any], *, chain_seq: int) -> str:
    digest = hashlib.sha256(prev_hash.encode("ascii") + b"\n")
    digest.update(canonical_entry(entry, chain_seq=chain_seq))
    return digest.hexdigest()


@dataclass(frozen=True)
class ChainHead:
    """The newest sealed entry: its place and hash. Logged after each seal as an anchor."""

    chain_seq: int
    entry_hash: str

    def __str__(self) -> str:
        return f"{self.chain_seq}:{self.entry_hash}"

    @classmethod
    def parse(cls, text: str) -> ChainHead:
        seq, _, digest = text.strip().partition(":")
        if not seq.isdigit() or len(digest) != 64 or int(seq) < 1:
            raise ValueError(f"an anchor is PLACE:SHA256 as the sealer logs it, not {text!r}")
        return cls(int(seq), digest.lower())


@dataclass(frozen=True)
class SealResult:
    sealed: int
    head: ChainHead | None


def chain_head() -> ChainHead | None:
    row = (
        AuditLog.objects.filter(chain_seq__isnull=False)
        .order_by("-chain_seq")
        .values_list("chain_seq", "entry_hash")
        .first()
    )
    return ChainHead(int(row[0]), row[1]) if row and row[0] is not None else None


def audit_log_seal(*, batch: int = SEAL_BATCH) -> SealResult:
    """Seal every entry written so far, ``batch`` at a time; returns how many and the head.

    Safe to run from several processes at once: on PostgreSQL the sealers queue on
    an advisory lock (SQLite serialises writers anyway), and each batch starts from
    the head as committed.
    """
    sealed = 0
    head = chain_head()
    while True:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", _SEAL_LOCK)
            head = chain_head()
            rows = list(
                AuditLog.objects.filter(chain_seq__isnull=True)
                .order_by("id")
                .values(*HASHED_FIELDS)[:batch]
            )
            if not rows:
                break
            seq, prev = (head.chain_seq, head.entry_hash) if head else (0, "")
            updates = []
            for row in rows:
                seq += 1
                digest = entry_hash(prev, row, chain_seq=seq)
                updates.append(
                    AuditLog(id=row["id"], chain_seq=seq, prev_hash=prev, entry_hash=digest)
                )
                prev = digest
            AuditLog.objects.bulk_update(
                updates, ["chain_seq", "prev_hash", "entry_hash"], batch_size=500
            )
            head = ChainHead(seq, prev)
            sealed += len(rows)
        if len(rows) < batch:
            break
    if sealed:
        # The anchor: kept outside the database by whoever keeps the logs.
        logger.info("audit chain sealed %d entries; head %s", sealed, head)
    return SealResult(sealed=sealed, head=head)


@dataclass
class Verification:
    """What :func:`audit_log_verify` found; ``ok`` when the chain is intact."""

    checked: int = 0
    head: ChainHead | None = None
    unsealed: int = 0
    oldest_unsealed_at: datetime | None = None
    problems: list[str] = field(default_factory=list)
    #: problems beyond the first :data:`MAX_PROBLEMS` are counted, not described
    more_problems: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


MAX_PROBLEMS = 20


def _sealed_entries(chunk: int = 5000) -> Iterator[dict[str, Any]]:
    """Sealed entries in chain order, a chunk at a time (keyset pagination, bounded memory)."""
    after = 0
    while True:
        rows = list(
            AuditLog.objects.filter(chain_seq__gt=after)
            .order_by("chain_seq")
            .values(*_LOADED)[:chunk]
        )
        yield from rows
        if len(rows) < chunk:
            return
        after = rows[-1]["chain_seq"]


def audit_log_verify(
    *, anchors: tuple[ChainHead, ...] = (), stale_after: timedelta = timedelta(minutes=10)
) -> Verification:
    """Check every sealed entry against its hash and its predecessor, and the anchors.

    Reads only; seal first (:func:`audit_log_seal`) to cover the newest entries.
    Entries left unsealed longer than ``stale_after`` are a problem too: the chain
    does not protect them, so the sealer is not running.
    """
    result = Verification()

    def problem(text: str) -> None:
        if len(result.problems) < MAX_PROBLEMS:
            result.problems.append(text)
        else:
            result.more_problems += 1

    wanted = {anchor.chain_seq: anchor.entry_hash for anchor in anchors}
    expected_seq, prev = 1, ""
    for row in _sealed_entries():
        seq = row["chain_seq"]
        if seq != expected_seq:
            missing = (
                f"place {expected_seq}"
                if seq == expected_seq + 1
                else f"places {expected_seq} to {seq - 1}"
            )
            problem(f"{missing} of the chain missing before entry {row['id']}: deleted")
            prev = row["prev_hash"]  # carry on from what the next entry says
        if row["prev_hash"] != prev:
            problem(
                f"entry {row['id']} (place {seq}) does not follow the entry before it: "
                "the chain was cut or an entry before it was changed"
            )
        digest = entry_hash(row["prev_hash"], row, chain_seq=seq)
        if digest != row["entry_hash"]:
            problem(f"entry {row['id']} (place {seq}) was changed after it was sealed")
        if seq in wanted and wanted.pop(seq) != row["entry_hash"]:
            problem(f"place {seq} no longer holds the anchored entry: the chain was rewritten")
        prev = row["entry_hash"]
        expected_seq = seq + 1
        result.checked += 1
        result.head = ChainHead(seq, row["entry_hash"])
    for seq in sorted(wanted):
        problem(f"the anchored place {seq} is missing: the chain was cut short")
    unsealed = AuditLog.objects.filter(chain_seq__isnull=True)
    result.unsealed = unsealed.count()
    if result.unsealed:
        result.oldest_unsealed_at = unsealed.order_by("at").values_list("at", flat=True).first()
        oldest = result.oldest_unsealed_at
        if oldest is not None and timezone.now() - oldest > stale_after:
            many = "entries are" if result.unsealed != 1 else "entry is"
            problem(
                f"{result.unsealed} {many} not sealed, the oldest written at "
                f"{oldest:%Y-%m-%d %H:%M:%S} UTC: is the sealer (celery beat) running?"
            )
    return result
