"""Four API processes writing at once extend one audit chain: no entry lost, none twice, and a
change to an object is never chained before the change it followed (on both engines; on PostgreSQL
the entries are linked after their commit by the processes' chainers, not under a lock)."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import httpx
import pytest

from backend.audit import services as audit_services
from backend.audit.tables import AuditEntry, AuditHead
from tests.conftest import PASSWORD, World, unique
from tests.integration.enforcement_helpers import action_payload
from tests.servers import api_process

PROCESSES = 4
ACTIONS_PER_PROCESS = 12
UNITS_PER_PROCESS = 4


@pytest.fixture(scope="module")
def processes(migrated, tmp_path_factory):
    logs = tmp_path_factory.mktemp("audit-processes")
    with (
        api_process(logs) as a,
        api_process(logs) as b,
        api_process(logs) as c,
        api_process(logs) as d,
    ):
        yield [a, b, c, d]


async def _token(http: httpx.AsyncClient, base: str, username: str) -> dict[str, str]:
    response = await http.post(f"{base}/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_four_processes_extend_one_chain_without_losing_or_reordering(processes, world: World) -> None:
    await audit_services.settle()
    start = (await AuditHead.select(AuditHead.seq).first() or {"seq": 0})["seq"]
    async with httpx.AsyncClient(timeout=60) as http:
        officers = [await _token(http, base, world.username("officer_a1")) for base in processes]
        admins = [await _token(http, base, world.username("admin")) for base in processes]

        async def post_actions(i: int) -> list[str]:
            ids = []
            for _ in range(ACTIONS_PER_PROCESS):
                body = action_payload(world)
                response = await http.post(f"{processes[i]}/api/v1/actions", json=body, headers=officers[i])
                assert response.status_code == 201, response.text
                ids.append(body["id"])
            return ids

        async def units_created_then_renamed(i: int) -> list[str]:
            """Made on one process and renamed on the next: the rename's entry must follow."""
            ids = []
            for _ in range(UNITS_PER_PROCESS):
                made = await http.post(
                    f"{processes[i]}/api/v1/units",
                    json={"name": unique("链"), "kind": "association"},
                    headers=admins[i],
                )
                assert made.status_code == 201, made.text
                j = (i + 1) % PROCESSES
                renamed = await http.patch(
                    f"{processes[j]}/api/v1/units/{made.json()['id']}",
                    json={"name": unique("链改")},
                    headers=admins[j],
                )
                assert renamed.status_code == 200, renamed.text
                ids.append(made.json()["id"])
            return ids

        results = await asyncio.gather(
            *(post_actions(i) for i in range(PROCESSES)),
            *(units_created_then_renamed(i) for i in range(PROCESSES)),
        )
    action_ids = [a for r in results[:PROCESSES] for a in r]
    unit_ids = [u for r in results[PROCESSES:] for u in r]

    await audit_services.settle()
    report = await audit_services.verify()
    assert report.ok, report.problems
    entries = await AuditEntry.select(
        AuditEntry.seq, AuditEntry.action, AuditEntry.object_id, AuditEntry.hash
    ).where(AuditEntry.seq > start)
    seqs = sorted(e["seq"] for e in entries)
    assert seqs == list(range(start + 1, start + len(entries) + 1))  # no gap, none twice
    assert await AuditEntry.count().where(AuditEntry.seq.is_null()) == 0  # none left unlinked
    created = defaultdict(int)
    for e in entries:
        if e["action"] == "action.created":
            created[e["object_id"]] += 1
    assert all(created[a] == 1 for a in action_ids), "an action's entry was lost or linked twice"
    order: dict[str, dict[str, int]] = defaultdict(dict)
    for e in entries:
        if e["object_id"] in unit_ids and e["action"] in ("unit.created", "unit.updated"):
            order[e["object_id"]][e["action"]] = e["seq"]
    assert len(order) == len(unit_ids)
    assert all(o["unit.created"] < o["unit.updated"] for o in order.values()), order
