"""Shared msgspec building blocks: strict request structs and bounded string types."""

from __future__ import annotations

from typing import Annotated

import msgspec


class Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Request bodies reject unknown fields, so a typo is an error rather than silently ignored."""


Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Username = Annotated[str, msgspec.Meta(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=128)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
ShortText = Annotated[str, msgspec.Meta(max_length=500)]
LongText = Annotated[str, msgspec.Meta(max_length=4000)]
Phone = Annotated[str, msgspec.Meta(max_length=32, pattern=r"^[0-9+\- ]*$")]
Money = Annotated[float, msgspec.Meta(ge=0, le=1e12)]
