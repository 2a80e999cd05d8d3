"""The sign-in lockout: counted before the password check, and the same for names that do not exist."""

from __future__ import annotations

import asyncio
import hashlib
import statistics
import time
import unicodedata
from datetime import UTC, datetime, timedelta

import httpx

from backend.accounts import schemas, services
from backend.accounts.tables import LoginFailure
from tests.conftest import PASSWORD, assert_problem, make_settings, unique

LIMIT = make_settings().login_max_failures
WRONG = "bad-guess"


async def _officer() -> str:
    user = await services.create_user(
        None,
        schemas.UserCreate(
            username=unique("lock"), password=PASSWORD, display_name="锁定", roles=["officer"]
        ),
    )
    return user.username


async def _sign_in(client: httpx.AsyncClient, username: str, password: str = WRONG) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"username": username, "password": password})


def _key(username: str) -> str:
    return hashlib.sha256(unicodedata.normalize("NFKC", username).strip().casefold().encode()).hexdigest()


async def test_parallel_wrong_passwords_check_no_more_than_the_limit(client, world) -> None:
    username = await _officer()
    responses = await asyncio.gather(*(_sign_in(client, username) for _ in range(40)))
    codes = [r.json()["code"] for r in responses]
    assert set(codes) == {"auth.invalid_credentials", "auth.locked"}, codes
    # The failure that reaches the limit locks the account and says so: LIMIT - 1 plain refusals.
    assert codes.count("auth.invalid_credentials") == LIMIT - 1, codes
    for response in responses:
        if response.json()["code"] == "auth.locked":
            body = assert_problem(response, 429, "auth.locked")
            assert int(response.headers["retry-after"]) > 0 and body["retry_after"] > 0
    assert_problem(await _sign_in(client, username, PASSWORD), 429, "auth.locked")


async def test_an_unknown_name_locks_exactly_like_a_real_one(client, world) -> None:
    real, ghost = await _officer(), unique("ghost")
    seen: dict[str, list[tuple[int, str, str, bool]]] = {real: [], ghost: []}
    for name in (real, ghost):
        for _ in range(LIMIT + 1):
            response = await _sign_in(client, name)
            body = response.json()
            seen[name].append(
                (response.status_code, body["code"], body["title"], "retry-after" in response.headers)
            )
    assert seen[real] == seen[ghost]
    assert [s[1] for s in seen[ghost]] == ["auth.invalid_credentials"] * (LIMIT - 1) + ["auth.locked"] * 2
    # However the name is typed, it is one counter.
    assert_problem(await _sign_in(client, f"  {ghost.upper()} "), 429, "auth.locked")
    # The stored key is a hash: the typed names are not kept.
    stored = await LoginFailure.select().where(LoginFailure.name_hash == _key(ghost)).first()
    assert stored is not None and ghost not in str(stored)


async def test_a_miss_on_an_unknown_name_costs_about_as_much_as_a_wrong_password(client, world) -> None:
    async def timed(name: str) -> float:
        started = time.perf_counter()
        assert_problem(await _sign_in(client, name), 401, "auth.invalid_credentials")
        return time.perf_counter() - started

    times: dict[str, list[float]] = {"real": [], "ghost": []}
    for _ in range(2):
        real, ghost = await _officer(), unique("ghost")
        for _ in range(LIMIT - 1):  # below the lock: only checked attempts are compared
            # Interleaved, so both see the same load on a shared machine.
            times["real"].append(await timed(real))
            times["ghost"].append(await timed(ghost))
    ratio = statistics.median(times["ghost"]) / statistics.median(times["real"])
    assert 0.5 < ratio < 2, times


async def test_a_lapsed_lock_or_an_old_count_starts_again_and_is_pruned(client, world) -> None:
    username = await _officer()
    for _ in range(LIMIT):
        await _sign_in(client, username)
    assert_problem(await _sign_in(client, username, PASSWORD), 429, "auth.locked")
    past = datetime.now(UTC) - timedelta(seconds=1)
    await LoginFailure.update({LoginFailure.locked_until: past}).where(
        LoginFailure.name_hash == _key(username)
    )
    assert (await _sign_in(client, username, PASSWORD)).status_code == 200  # the lock has lapsed

    # Failures spread over longer than the lockout period do not add up.
    ghost = unique("ghost")
    for _ in range(LIMIT - 1):
        await _sign_in(client, ghost)
    lockout = make_settings().login_lockout_s
    long_ago = datetime.now(UTC) - timedelta(seconds=lockout + 60)
    await LoginFailure.update({LoginFailure.updated_at: long_ago}).where(
        LoginFailure.name_hash == _key(ghost)
    )
    assert_problem(await _sign_in(client, ghost), 401, "auth.invalid_credentials")

    # Pruning forgets idle counts and keeps those that still lock.
    locked = unique("ghost")
    for _ in range(LIMIT):
        await _sign_in(client, locked)
    await LoginFailure.update({LoginFailure.updated_at: long_ago}).where(
        LoginFailure.name_hash.is_in([_key(ghost), _key(locked)])
    )
    await services.prune_login_failures(lockout)
    assert not await LoginFailure.exists().where(LoginFailure.name_hash == _key(ghost))
    assert await LoginFailure.exists().where(LoginFailure.name_hash == _key(locked))
    assert_problem(await _sign_in(client, locked), 429, "auth.locked")
