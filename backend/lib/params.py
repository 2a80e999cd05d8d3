"""Query parameters shared by list endpoints."""

from typing import Annotated

from litestar.params import HeaderParameter, QueryParameter

from backend.lib.pagination import DEFAULT_LIMIT, MAX_LIMIT

Limit = Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT, description=f"page size, at most {MAX_LIMIT}")]
Cursor = Annotated[str | None, QueryParameter(max_length=512, description="opaque cursor from next_cursor")]

__all__ = ["DEFAULT_LIMIT", "Cursor", "IdempotencyKey", "Limit"]

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(name="Idempotency-Key", max_length=200, description="repeat-safe creation key"),
]
