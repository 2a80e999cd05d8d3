"""Text with the NUL character (U+0000) is refused where it enters, with a 400; so is a JSON body
nested deeper than the decoder can go.

JSON allows ``"\\u0000"`` in a string and a URL allows ``%00``, but PostgreSQL cannot store the
character in text: such a value used to reach the database and fail there as a 500. SQLite stores it,
which would only make the two engines disagree; no field of ours has a use for it.

Checked here: every JSON request body (``AppRequest``, the app's request class), the path and the
query string (``refuse_nul_in_url``, a ``before_request`` hook). Text decoded from headers (tus metadata,
``X-Filename``) goes through ``no_nul`` where it is decoded.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from backend.lib.errors import AppError, Errors

_DETAIL = "Text may not contain the NUL character (U+0000)."


def _nul_path(value: Any) -> str | None:
    """Where in a decoded JSON value a string holds U+0000 (``a.b[2]``), or None. Iterative: a body
    may be nested as deep as the decoder allows."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return path or "body"
        elif isinstance(item, dict):
            for key, child in item.items():
                where = f"{path}.{key}" if path else str(key)
                if "\x00" in key:
                    return where
                stack.append((child, where))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{index}]") for index, child in enumerate(item))
    return None


def no_nul(text: str, key: str) -> str:
    if "\x00" in text:
        raise AppError(Errors.VALIDATION, _DETAIL, errors=[{"key": key, "source": "header"}])
    return text


class AppRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        try:
            value = await super().json()
        except RecursionError:  # the decoder's own depth limit; Litestar lets it through as a 500
            raise AppError(Errors.BAD_REQUEST, "The JSON body is nested too deeply.") from None
        where = _nul_path(value)
        if where is not None:
            raise AppError(Errors.VALIDATION, _DETAIL, errors=[{"key": where, "source": "body"}])
        return value


async def refuse_nul_in_url(request: Request[Any, Any, Any]) -> None:
    """The path too: a file name with U+0000 made the PWA's file lookup fail with a 500."""
    if "\x00" in request.scope.get("path", ""):
        raise AppError(Errors.VALIDATION, _DETAIL, errors=[{"key": "path", "source": "path"}])
    query = request.scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        raise AppError(Errors.VALIDATION, _DETAIL, errors=[{"key": "query", "source": "query"}])
