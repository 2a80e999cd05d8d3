"""The per-process cache of checked tokens: what it keeps, for how long, and what it must not keep."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from backend.accounts.session_cache import SessionCache
from backend.lib.auth import CurrentUser


def _user(user_id: uuid.UUID | None = None, access_ends: datetime | None = None) -> CurrentUser:
    return CurrentUser(
        id=user_id or uuid.uuid4(),
        username="officer",
        display_name="执法员",
        roles=frozenset({"officer"}),
        unit_ids=frozenset(),
        session_id=uuid.uuid4(),
        access_ends=access_ends,
    )


def _claims(exp_in: float = 900) -> dict[str, object]:
    return {"exp": int(time.time() + exp_in)}


def _store(cache: SessionCache, token: str, user: CurrentUser, exp_in: float = 900, age: float = 60) -> bytes:
    key = cache.key(token)
    cache.put(cache.stamp(key, user.id), user, _claims(exp_in), age)
    return key


def test_a_token_is_kept_under_its_hash_until_forgotten() -> None:
    cache = SessionCache()
    user = _user()
    key = _store(cache, "token-a", user)
    assert key != b"token-a" and len(key) == 32
    entry = cache.get(key)
    assert entry is not None and entry.user == user
    cache.forget_user(user.id)
    assert cache.get(key) is None


def test_forgetting_a_user_keeps_the_other_users_tokens() -> None:
    cache = SessionCache()
    one, other = _user(), _user()
    first, second = _store(cache, "t1", one), _store(cache, "t1b", one)
    kept = _store(cache, "t2", other)
    cache.forget_user(one.id)
    assert (cache.get(first), cache.get(second)) == (None, None)
    assert cache.get(kept) is not None


def test_a_load_that_was_running_when_its_user_changed_is_not_kept() -> None:
    """The load may have read the account as it was before the change."""
    cache = SessionCache()
    user = _user()
    key = cache.key("token")
    stamp = cache.stamp(key, user.id)
    cache.forget_user(user.id)  # the change commits while the load is on its way
    cache.put(stamp, user, _claims(), 60)
    assert cache.get(key) is None
    # A load that starts after the change is kept.
    cache.put(cache.stamp(key, user.id), user, _claims(), 60)
    assert cache.get(key) is not None


def test_a_load_running_when_everything_was_cleared_is_not_kept() -> None:
    cache = SessionCache()
    user = _user()
    key = cache.key("token")
    stamp = cache.stamp(key, user.id)
    cache.clear()
    cache.put(stamp, user, _claims(), 60)
    assert cache.get(key) is None and len(cache) == 0


def test_an_entry_ends_with_the_token_the_access_or_the_maximum_age() -> None:
    cache = SessionCache()
    expired = _store(cache, "expired", _user(), exp_in=-1)
    assert cache.get(expired) is None
    aged = _store(cache, "aged", _user(), age=-1)
    assert cache.get(aged) is None
    ended = _user(access_ends=datetime.now(UTC) - timedelta(seconds=1))
    assert cache.get(_store(cache, "ended", ended)) is None
    running = _user(access_ends=datetime.now(UTC) + timedelta(hours=1))
    assert cache.get(_store(cache, "running", running)) is not None
    assert len(cache) == 1  # the ended ones were dropped when asked for


def test_the_cache_holds_at_most_its_size_dropping_the_least_recently_used() -> None:
    cache = SessionCache(max_entries=3)
    keys = [_store(cache, f"t{i}", _user()) for i in range(3)]
    assert cache.get(keys[0]) is not None  # used: now the most recent
    fourth = _store(cache, "t3", _user())
    assert len(cache) == 3
    assert cache.get(keys[1]) is None
    assert all(cache.get(k) is not None for k in (keys[0], keys[2], fourth))
