"""The generator's only way into a company: a sink that accepts QBO create/update payloads.

Real: every payload is what a client would POST to QuickBooks Online (refs by Id, server-side
totals, sparse updates with Id + SyncToken). Faked: nothing; the sink is the emulator's books
(or a test double). Not implemented: batch calls; the generator writes one object at a time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol


class CompanySink(Protocol):
    """Where the generator sends payloads; answers with the object as the server stored it."""

    def create(self, entity: str, payload: dict, *, at: datetime | None = None) -> dict:
        """Create one object; returns it with Id, SyncToken, totals and balances filled in."""
        ...

    def update(self, entity: str, payload: dict, *, at: datetime | None = None) -> dict:
        """Update (``"sparse": True`` for sparse) an object named by Id + SyncToken."""
        ...

    def void(self, entity: str, payload: dict, *, at: datetime | None = None) -> dict:
        """Void a transaction named by Id + SyncToken."""
        ...

    def delete(self, entity: str, payload: dict, *, at: datetime | None = None) -> dict:
        """Delete a transaction named by Id + SyncToken."""
        ...

    def list(self, entity: str) -> list[dict]:
        """Every current object of the entity, active or not."""
        ...


def unwrap(entity: str, answer: dict[str, Any]) -> dict[str, Any]:
    """Accept both the bare object and the ``{"Invoice": {...}}`` envelope a server may return."""
    if "Id" not in answer and isinstance(answer.get(entity), dict):
        return answer[entity]
    return answer
