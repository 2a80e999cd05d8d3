from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from backend.audit import heads, schemas, services
from backend.lib.auth import requires_roles
from backend.lib.deps import Integrity, Store
from backend.lib.errors import AppError, Errors
from backend.lib.pagination import Page
from backend.lib.params import DEFAULT_LIMIT, Cursor, Limit
from backend.lib.signing import ALGORITHM, IntegrityKey

Filter = Annotated[str | None, QueryParameter(max_length=64)]
Size = Annotated[int, QueryParameter(ge=1, le=2**63 - 1)]
MAX_OUTSIDE_HEADS = 100


def _head(head: heads.SignedHead, key: IntegrityKey) -> schemas.TreeHead:
    return schemas.TreeHead(**head.as_json(key))


async def _check(store: Store, integrity: Integrity, outside: list[heads.SignedHead]) -> schemas.ChainCheck:
    report = await services.verify(integrity, outside)
    records = await services.verify_records(store, integrity)
    problems = [*report.problems, *records]
    return schemas.ChainCheck(
        ok=not problems,
        checked=report.checked,
        head_seq=report.head_seq,
        broken_at_seq=report.broken_at_seq,
        problem=problems[0] if problems else None,
        problems=problems,
        heads_checked=report.heads_checked,
        signed_size=report.signed_size,
    )


class AuditController(Controller):
    path = "/audit"
    tags = ["audit"]
    guards = [requires_roles("supervisor", "admin")]

    @get("/", summary="The append-only audit log, newest first")
    async def list_entries(
        self,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
        object_type: Filter = None,
        object_id: Filter = None,
        action: Filter = None,
    ) -> Page[schemas.AuditEntry]:
        return await services.list_entries(cursor, limit, object_type, object_id, action)

    @get(
        "/verify",
        summary="Re-compute the hash chain and the Merkle tree against every signed tree head, and "
        "check evidence records against their upload entries",
    )
    async def verify(self, store: Store, integrity: Integrity) -> schemas.ChainCheck:
        return await _check(store, integrity, [])

    @post(
        "/verify",
        status_code=HTTP_200_OK,
        summary="As GET, and also check the log against tree heads kept outside",
    )
    async def verify_outside(
        self, data: JSONBody[schemas.OutsideHeads], store: Store, integrity: Integrity
    ) -> schemas.ChainCheck:
        if not 0 < len(data.heads) <= MAX_OUTSIDE_HEADS:
            raise AppError(
                Errors.VALIDATION,
                f"Send 1 to {MAX_OUTSIDE_HEADS} tree heads.",
                errors=[{"key": "heads", "message": "1 to 100 heads"}],
            )
        outside = []
        for index, value in enumerate(data.heads):
            try:
                outside.append(heads.parse(value))
            except heads.HeadRejected as exc:
                raise AppError(
                    Errors.VALIDATION,
                    f"Tree head {index + 1}: {exc}.",
                    errors=[{"key": f"heads[{index}]", "message": str(exc)}],
                ) from None
        return await _check(store, integrity, outside)

    @get(
        "/consistency",
        summary="RFC 9162 consistency proof between the trees of sizes first and second",
    )
    async def consistency(self, first: Size, second: Size) -> schemas.Consistency:
        return await services.consistency(first, second)

    @get("/head", summary="The newest signed tree head, for an outside party to keep")
    async def newest_head(self, integrity: Integrity) -> schemas.TreeHead:
        head = await heads.newest()
        if head is None:
            raise AppError(Errors.NOT_FOUND, "No tree head has been signed yet.")
        return _head(head, integrity)


class AuditKeyController(Controller):
    """No sign-in: anyone holding a tree head may check its signature."""

    path = "/audit/key"
    tags = ["audit"]

    @get(
        "/",
        exclude_from_auth=True,
        summary="The public key tree heads are signed with (no sign-in: anyone may check a head)",
    )
    async def public_key(self, integrity: Integrity) -> schemas.PublicKey:
        return schemas.PublicKey(
            algorithm=ALGORITHM,
            key_id=integrity.key_id,
            public_key=integrity.public_b64,
            public_key_pem=integrity.public_pem,
        )
