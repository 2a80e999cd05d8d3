"""Retention rules (admin), legal holds, the due list and approved disposals (supervisors), and each
evidence record's standing (whoever may see the evidence)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.lib.auth import requires_roles
from backend.lib.deps import SignedIn, Store
from backend.retention import schemas, services

SUPERVISORS = [requires_roles("supervisor")]


class RetentionController(Controller):
    path = "/"
    tags = ["retention"]

    @get("/retention/rules", guards=[requires_roles("admin", "supervisor")], summary="Years kept, per rule")
    async def get_rules(self) -> dict[str, Any]:
        return {"rules": await services.rules()}

    @put("/retention/rules", guards=[requires_roles("admin")], summary="Change retention rules (admin)")
    async def put_rules(self, user: SignedIn, data: JSONBody[schemas.RulesUpdate]) -> dict[str, Any]:
        changes = [msgspec.to_builtins(rule) for rule in data.rules]
        return {"rules": await services.set_rules(user, changes)}

    @get("/evidence/{evidence_id:uuid}/retention", summary="How long this evidence is kept, and why")
    async def standing(self, user: SignedIn, evidence_id: FromPath[uuid.UUID]) -> dict[str, Any]:
        return await services.standing_of(user, evidence_id)

    @get("/retention/due", guards=SUPERVISORS, summary="Evidence past its retention that nothing holds")
    async def due(
        self,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 200,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> dict[str, Any]:
        return await services.due(limit, offset)

    @post(
        "/retention/disposals",
        guards=SUPERVISORS,
        status_code=HTTP_201_CREATED,
        summary="Approve a batch of due evidence for disposal",
    )
    async def dispose(
        self, user: SignedIn, store: Store, data: JSONBody[schemas.DisposalCreate]
    ) -> dict[str, Any]:
        return await services.dispose(user, data.evidence_ids, data.reason, store)

    @get("/retention/disposals", guards=SUPERVISORS, summary="Approved disposal batches, newest first")
    async def batches(self) -> list[dict[str, Any]]:
        return await services.batches()

    @get("/retention/disposals/{batch_id:uuid}", guards=SUPERVISORS, summary="One batch and what it did")
    async def batch(self, batch_id: FromPath[uuid.UUID]) -> dict[str, Any]:
        return await services.batch(batch_id)

    @post(
        "/legal-holds",
        guards=SUPERVISORS,
        status_code=HTTP_201_CREATED,
        summary="Hold evidence, a case or an action",
    )
    async def hold(self, user: SignedIn, data: JSONBody[schemas.HoldCreate]) -> dict[str, Any]:
        return await services.place_hold(user, data.object_type, data.object_id, data.reason)

    @get("/legal-holds", guards=SUPERVISORS, summary="Legal holds (active ones unless active=false)")
    async def holds(self, active: Annotated[bool, QueryParameter()] = True) -> list[dict[str, Any]]:
        return await services.holds(active)

    @post(
        "/legal-holds/{hold_id:uuid}/release",
        guards=SUPERVISORS,
        status_code=HTTP_200_OK,
        summary="Release a hold",
    )
    async def release(
        self, user: SignedIn, hold_id: FromPath[uuid.UUID], data: JSONBody[schemas.HoldRelease]
    ) -> dict[str, Any]:
        return await services.release_hold(user, hold_id, data.reason)
