"""Generate many on-site actions into a PostgreSQL database, fast, for the feed benchmark.

    .venv/bin/python scripts/gen_actions.py --database-url postgresql://postgres@127.0.0.1:5432/DB \
        [--count 1000000] [--seed 7] [--years 4]

The database must have the app's migrations and the demo organisation (``fieldwatch demo``): the
actions are spread over the units that have certified officers, over the items each unit may act on
at the time of the act (its own, or delegated and in effect), over pairs of that unit's officers, over
the five kinds, and over time (more recent years busier, weekdays and office hours busier, most
records uploaded within minutes, some hours later from the offline outbox). ``created_at`` is what
the feed orders by.

Rows go in with asyncpg's COPY (``copy_records_to_table``). The secondary indexes of ``actions`` and
``action_officers`` are dropped for the load and re-created exactly as they were, foreign-key
triggers are skipped for the session when the role may do so (the ids come from the database
itself), and both tables are analysed at the end. Existing rows are kept.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass

import asyncpg

BEIJING = dt.timezone(dt.timedelta(hours=8))
KINDS = ("inspection", "evidence", "service", "coercive", "other")
KIND_WEIGHTS = (50, 20, 14, 6, 10)
UNIT_WEIGHTS = {"township": 3.0, "department": 1.5}
ACTION_COLUMNS = (
    "id",
    "unit",
    "item",
    "kind",
    "occurred_at",
    "lat",
    "lon",
    "accuracy_m",
    "address",
    "party_name",
    "party_type",
    "party_id_number",
    "notes",
    "status",
    "created_by",
    "created_at",
    "request_hash",
    "evidence_count",
)
OFFICER_COLUMNS = ("id", "action", "officer")
STREETS = ("滨江路", "正街", "新华路", "工业园大道", "学府路", "菜市场", "老街", "建设路")
PARTIES = ("餐馆", "超市", "汽修厂", "建材店", "农家乐", "五金店", "药店", "茶楼")
NOTES = (
    "现场检查：证照齐全，未发现违法行为。",
    "现场检查：占道经营，已责令改正。",
    "调查取证：拍照、询问当事人并制作笔录。",
    "送达限期整改通知书，当事人签收。",
    "查封扣押涉案物品，清单交当事人核对。",
    "回访复查：已整改到位。",
)


@dataclass(frozen=True)
class Pair:
    """One (unit, item) combination that was lawful between ``start`` and ``end``."""

    unit: uuid.UUID
    unit_name: str
    item: uuid.UUID
    officers: tuple[uuid.UUID, ...]
    start: dt.datetime
    end: dt.datetime
    weight: float


async def load_pairs(conn: asyncpg.Connection, start: dt.datetime, end: dt.datetime) -> list[Pair]:
    units = {r["id"]: r for r in await conn.fetch("SELECT id, name, kind FROM units")}
    officers: dict[uuid.UUID, list[uuid.UUID]] = {}
    for r in await conn.fetch(
        """SELECT m.unit, u.id FROM memberships m JOIN users u ON u.id = m.user
           JOIN certificates c ON c.user = u.id
           WHERE u.active AND u.roles LIKE '% officer %' AND c.status = 'valid' AND c.expires_on >= $1
           ORDER BY u.username""",
        end.astimezone(BEIJING).date(),
    ):
        officers.setdefault(r["unit"], []).append(r["id"])
    windows: list[tuple[uuid.UUID, uuid.UUID, dt.datetime, dt.datetime]] = []
    for r in await conn.fetch("SELECT id, owner_unit FROM enforcement_items ORDER BY code"):
        windows.append((r["owner_unit"], r["id"], start, end))
    for r in await conn.fetch(
        "SELECT unit, item, effective_from, effective_to FROM delegations ORDER BY item, unit"
    ):
        lo = dt.datetime.combine(r["effective_from"], dt.time(), BEIJING)
        hi = dt.datetime.combine(r["effective_to"], dt.time(23, 59), BEIJING) if r["effective_to"] else end
        windows.append((r["unit"], r["item"], max(lo, start), min(hi, end)))
    pairs = []
    by_unit: dict[uuid.UUID, int] = {}
    for unit, item, lo, hi in windows:
        if len(officers.get(unit, ())) < 2 or lo >= hi:
            continue
        rank = by_unit[unit] = by_unit.get(unit, 0) + 1  # the first items of a unit are its busiest
        span = (hi - lo).total_seconds() / (end - start).total_seconds()
        weight = UNIT_WEIGHTS.get(units[unit]["kind"], 1.0) / rank * span
        pairs.append(Pair(unit, units[unit]["name"], item, tuple(officers[unit]), lo, hi, weight))
    if not pairs:
        raise SystemExit("no unit has two certified officers and an item: load the demo data first")
    return pairs


class Generator:
    """Rows come out in the order they would have been recorded, so the table's physical order
    follows ``created_at`` as it does in production (it matters to the planner's estimates)."""

    def __init__(
        self, pairs: list[Pair], start: dt.datetime, end: dt.datetime, seed: int, count: int
    ) -> None:
        self.rng = random.Random(seed)
        self.pairs = pairs
        self.weights = [p.weight for p in pairs]
        self.start, self.end = start, end
        self.times = self._moments(count)
        self.next = 0

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _moments(self, count: int) -> list[float]:
        """``count`` sorted moments (epoch seconds): later years busier (the pilot grows),
        weekdays and office hours (Beijing) busier."""
        rng = self.rng
        days = max(1, (self.end - self.start).days)
        first = self.start.astimezone(BEIJING).replace(hour=0, minute=0, second=0, microsecond=0)
        weekday = [(first + dt.timedelta(days=d)).weekday() < 5 for d in range(days + 1)]
        hours = rng.choices(range(24), weights=HOUR_WEIGHTS, k=count)
        base = first.timestamp()
        earliest, last = self.start.timestamp(), (self.end - dt.timedelta(minutes=5)).timestamp()
        moments = []
        for hour in hours:
            while True:
                day = int(days * (rng.random() ** 0.7))
                if weekday[day] or rng.random() < 0.35:
                    break
            moments.append(min(max(base + day * 86400 + hour * 3600 + rng.random() * 3600, earliest), last))
        moments.sort()
        return moments

    def pair_at(self, moment: dt.datetime) -> Pair:
        """A (unit, item) pair lawful at ``moment``, by weight."""
        for _ in range(50):
            pair = self.rng.choices(self.pairs, weights=self.weights)[0]
            if pair.start <= moment <= pair.end:
                return pair
        lawful = [p for p in self.pairs if p.start <= moment <= p.end]
        if not lawful:
            raise ValueError(f"no unit may act on any item at {moment.isoformat()}")
        return self.rng.choices(lawful, weights=[p.weight for p in lawful])[0]

    def upload_delay(self) -> dt.timedelta:
        r = self.rng.random()
        if r < 0.80:
            return dt.timedelta(seconds=self.rng.uniform(3, 300))
        if r < 0.95:
            return dt.timedelta(minutes=self.rng.uniform(5, 120))
        return dt.timedelta(hours=self.rng.uniform(2, 48))  # recorded offline, uploaded later

    def chunk(self, size: int) -> tuple[list[tuple], list[tuple]]:
        rng = self.rng
        actions, links = [], []
        moments = self.times[self.next : self.next + size]
        self.next += len(moments)
        kinds = rng.choices(KINDS, weights=KIND_WEIGHTS, k=len(moments))
        for moment, kind in zip(moments, kinds, strict=True):
            occurred = dt.datetime.fromtimestamp(moment, dt.UTC)
            pair = self.pair_at(occurred)
            action_id = self.uuid()
            crew = rng.sample(pair.officers, 3 if len(pair.officers) > 2 and rng.random() < 0.1 else 2)
            created = min(occurred + self.upload_delay(), self.end)
            has_party = rng.random() < 0.7
            organisation = has_party and rng.random() < 0.6
            street = rng.choice(STREETS)
            actions.append(
                (
                    action_id,
                    pair.unit,
                    pair.item,
                    kind,
                    occurred,
                    29.15 + rng.uniform(-0.08, 0.08),
                    107.10 + rng.uniform(-0.08, 0.08),
                    round(rng.uniform(3, 60), 1),
                    f"{pair.unit_name}{street}{rng.randint(1, 300)}号",
                    (f"某某{rng.choice(PARTIES)}" if organisation else f"张{rng.randint(1, 999)}")
                    if has_party
                    else None,
                    ("organisation" if organisation else "person") if has_party else None,
                    (
                        f"91500119MA{rng.getrandbits(40):010X}"
                        if organisation
                        else f"5001191{rng.randint(10**10, 10**11 - 1)}"
                    )
                    if has_party
                    else None,
                    rng.choice(NOTES),
                    "recorded",
                    crew[0],
                    created,
                    hashlib.sha256(action_id.bytes).hexdigest(),
                    rng.choices((0, 1, 2, 3, 4, 6), weights=(30, 15, 20, 15, 12, 8))[0],
                )
            )
            links.extend((self.uuid(), action_id, officer) for officer in crew)
        actions.sort(key=lambda row: row[15])  # inserted as received
        return actions, links


# Office hours, with some early and late work (Beijing time).
HOUR_WEIGHTS = (1, 0, 0, 0, 0, 1, 2, 4, 9, 12, 12, 10, 5, 6, 11, 12, 11, 9, 6, 4, 3, 2, 2, 1)


async def secondary_indexes(conn: asyncpg.Connection, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, definition) of every index on ``tables`` that does not back a constraint."""
    rows = await conn.fetch(
        """SELECT i.indexname, i.indexdef FROM pg_indexes i
           WHERE i.schemaname = current_schema() AND i.tablename = ANY($1::text[])
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
           ORDER BY i.indexname""",
        list(tables),
    )
    return [(r["indexname"], r["indexdef"]) for r in rows]


async def skip_fk_triggers(conn: asyncpg.Connection) -> bool:
    try:
        await conn.execute("SET session_replication_role = replica")
    except asyncpg.InsufficientPrivilegeError:
        return False
    return True


async def generate(url: str, count: int, seed: int, years: float, chunk: int, log=print) -> dict[str, float]:
    started = time.perf_counter()
    end = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start = end - dt.timedelta(days=round(365.25 * years))
    actions_conn = await asyncpg.connect(url)
    links_conn = await asyncpg.connect(url)
    try:
        pairs = await load_pairs(actions_conn, start, end)
        gen = Generator(pairs, start, end, seed, count)
        indexes = await secondary_indexes(actions_conn, ("actions", "action_officers"))
        for name, _ in indexes:
            await actions_conn.execute(f'DROP INDEX IF EXISTS "{name}"')
        fast = await skip_fk_triggers(actions_conn) and await skip_fk_triggers(links_conn)
        log(
            f"generating {count:,} actions over {len(pairs)} unit/item pairs, {start.date()}..{end.date()} "
            f"({len(indexes)} indexes dropped for the load{', foreign-key triggers skipped' if fast else ''})"
        )
        done = 0
        loaded = time.perf_counter()
        try:
            # Generate the next chunk in a thread while this one is copied.
            upcoming = asyncio.create_task(asyncio.to_thread(gen.chunk, min(chunk, count)))
            while done < count:
                actions, links = await upcoming
                size = len(actions)
                done += size
                if done < count:
                    upcoming = asyncio.create_task(asyncio.to_thread(gen.chunk, min(chunk, count - done)))
                await _copy(actions_conn, links_conn, actions, links, together=fast)
                if done % (chunk * 4) == 0 or done == count:
                    log(f"  {done:,} copied ({time.perf_counter() - started:.0f} s)")
            loaded = time.perf_counter()
        finally:
            for _, definition in indexes:
                await actions_conn.execute(definition)
            indexed = time.perf_counter()
            await actions_conn.execute("ANALYZE actions")
            await actions_conn.execute("ANALYZE action_officers")
        timings = {
            "load_s": round(loaded - started, 1),
            "index_s": round(indexed - loaded, 1),
            "total_s": round(time.perf_counter() - started, 1),
        }
        total = await actions_conn.fetchval("SELECT count(*) FROM actions")
        log(f"done: {total:,} actions in the table; {timings}")
        return timings
    finally:
        await actions_conn.close()
        await links_conn.close()


async def _copy(actions_conn, links_conn, actions: list[tuple], links: list[tuple], together: bool) -> None:
    copy_actions = actions_conn.copy_records_to_table("actions", records=actions, columns=ACTION_COLUMNS)
    copy_links = links_conn.copy_records_to_table("action_officers", records=links, columns=OFFICER_COLUMNS)
    if together:
        await asyncio.gather(copy_actions, copy_links)
    else:  # the foreign key is checked: the actions must be in first
        await copy_actions
        await copy_links


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("FIELDWATCH_DATABASE_URL"),
        help="postgresql://… (default: $FIELDWATCH_DATABASE_URL)",
    )
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--years", type=float, default=4.0, help="how far back the actions go")
    parser.add_argument("--chunk", type=int, default=50_000, help="rows per COPY")
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith(("postgresql://", "postgres://")):
        parser.error("--database-url (or FIELDWATCH_DATABASE_URL) must be a postgresql:// URL")
    asyncio.run(generate(args.database_url, args.count, args.seed, args.years, args.chunk))
    return 0


if __name__ == "__main__":
    sys.exit(main())
