"""Query parameters shared by list endpoints."""

from typing import Annotated

from litestar.params import QueryParameter

from backend.lib.pagination import DEFAULT_LIMIT, MAX_LIMIT

Limit = Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT, description=f"page size, at most {MAX_LIMIT}")]
Cursor = Annotated[str | None, QueryParameter(max_length=512, description="opaque cursor from next_cursor")]

__all__ = ["DEFAULT_LIMIT", "Cursor", "Limit"]
