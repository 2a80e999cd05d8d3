"""The faster SQLite converters give exactly what Piccolo's give, and fail where they fail."""

from __future__ import annotations

import sqlite3
import uuid

import pytest
from piccolo.engine import sqlite as piccolo_sqlite

from backend.db import converters as fast

UUIDS = [
    b"5b1553ff-474c-5539-be3e-e68f97c55769",
    b"5B1553FF-474C-5539-BE3E-E68F97C55769",
    b"00000000-0000-0000-0000-000000000000",
    b"ffffffff-ffff-ffff-ffff-ffffffffffff",
    b"{5b1553ff-474c-5539-be3e-e68f97c55769}",
    b"5b1553ff474c5539be3ee68f97c55769",
    b"urn:uuid:5b1553ff-474c-5539-be3e-e68f97c55769",
]
BAD_UUIDS = [
    b"",
    b"not-a-uuid",
    b"5b1553ff-474c-5539-be3e-e68f97c5576",
    b"5b1553ff-474c-5539-be3e-e68f97c5576g",
]


@pytest.mark.parametrize("value", UUIDS)
def test_uuids_equal_piccolos(value: bytes) -> None:
    got, expected = fast.uuid_out(value), piccolo_sqlite.convert_uuid_out(value)
    assert type(got) is uuid.UUID
    assert got == expected
    assert (str(got), hash(got), got.version, got.is_safe) == (
        str(expected),
        hash(expected),
        expected.version,
        expected.is_safe,
    )


@pytest.mark.parametrize("value", BAD_UUIDS)
def test_malformed_uuids_fail_as_in_piccolo(value: bytes) -> None:
    with pytest.raises(ValueError):
        piccolo_sqlite.convert_uuid_out(value)
    with pytest.raises(ValueError):
        fast.uuid_out(value)


def test_a_repeated_uuid_is_one_object_and_the_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast, "UUID_CACHE_SIZE", 10)
    monkeypatch.setattr(fast, "_uuid_cache", {})
    value = UUIDS[0]
    assert fast.uuid_out(value) is fast.uuid_out(value)
    for _ in range(25):
        fast.uuid_out(str(uuid.uuid4()).encode())
    assert len(fast._uuid_cache) <= 10
    assert fast.uuid_out(value) == uuid.UUID(value.decode())


@pytest.mark.parametrize("value", [b"0", b"12", b"-3", b" 7 ", b"1.0", b"9223372036854775807"])
def test_integers_equal_piccolos(value: bytes) -> None:
    got = fast.int_out(value)
    assert type(got) is int
    assert got == piccolo_sqlite.convert_int_out(value)


def test_a_non_integer_fails_as_in_piccolo() -> None:
    with pytest.raises(ArithmeticError):
        piccolo_sqlite.convert_int_out(b"abc")
    with pytest.raises(ArithmeticError):
        fast.int_out(b"abc")


@pytest.mark.parametrize(
    "value", [b"2026-11-28 03:16:10", b"2026-11-28 03:16:10.123456", b"2026-11-28T03:16:10+00:00"]
)
def test_timestamps_equal_piccolos(value: bytes) -> None:
    got, expected = fast.timestamptz_out(value), piccolo_sqlite.convert_timestamptz_out(value)
    assert got == expected and got.tzinfo == expected.tzinfo


@pytest.mark.parametrize("value", [b"0", b"1"])
def test_booleans_equal_piccolos(value: bytes) -> None:
    assert fast.boolean_out(value) is piccolo_sqlite.convert_boolean_out(value)


def test_registered_converters_apply_to_declared_column_types() -> None:
    fast.register()
    db = sqlite3.connect(":memory:", detect_types=sqlite3.PARSE_DECLTYPES)
    db.execute("CREATE TABLE t (id UUID, n INTEGER, at TIMESTAMPTZ, ok BOOLEAN)")
    db.execute("INSERT INTO t VALUES (?, ?, ?, ?)", (UUIDS[0].decode(), 5, "2026-11-28 03:16:10", 1))
    (row,) = db.execute("SELECT id, n, at, ok FROM t").fetchall()
    db.close()
    assert row == (
        uuid.UUID(UUIDS[0].decode()),
        5,
        piccolo_sqlite.convert_timestamptz_out(b"2026-11-28 03:16:10"),
        True,
    )
