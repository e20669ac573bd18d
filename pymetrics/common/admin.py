"""Admin building blocks shared by the apps."""

from __future__ import annotations

from typing import Any


class NoDeleteInAdmin:
    """Rows that own candidate data are not deleted from the admin.

    Deleting them cascades to game sessions and their events, which must go
    through the services: those lock the sessions first (events have no
    database-level foreign key, ADR 0012) and record the deletion in the audit log.
    """

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
