"""Does a webhook endpoint that never answers slow the requests that make its events?

A `fieldwatch serve` on demo data (SQLite, or --pg), `POST /actions` sent one after another by
officer1, in interleaved rounds: with no endpoint, and with --endpoints endpoints subscribed to
`action.created` that accept the connection and then never answer (each delivery waits out the
10 s timeout). Reports p50 / p95 / p99 latency per variant and their ratios, measured in the same run.

    python -m benchmarks.webhooks --rounds 6 --per-round 100 --endpoints 3
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.e2e.conftest import app_server


class Hanging:
    """Accepts connections and reads, never answers."""

    def __init__(self) -> None:
        self.connections = 0
        self.server: asyncio.AbstractServer | None = None
        self.tasks: set[asyncio.Task[Any]] = set()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)
        try:
            await reader.read(1 << 16)
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            pass  # stopped at the end of the run: asyncio would log a cancelled handler as an error
        finally:
            writer.close()

    async def start(self) -> str:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hook"


async def login(http: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    r = await http.post("/api/v1/auth/login", json={"username": username, "password": password})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def action_body(http: httpx.AsyncClient, officer: dict[str, str]) -> dict[str, Any]:
    units = (await http.get("/api/v1/units?limit=200", headers=officer)).json()["items"]
    unit = next(u for u in units if u["name"] == "水江镇")
    items = (await http.get(f"/api/v1/items?unit_id={unit['id']}&limit=200", headers=officer)).json()["items"]
    item = next(i for i in items if i["code"] == "CG-001")
    users = (
        await http.get(f"/api/v1/users?role=officer&unit_id={unit['id']}&limit=200", headers=officer)
    ).json()["items"]
    ids = {u["username"]: u["id"] for u in users}
    return {
        "unit_id": unit["id"],
        "item_id": item["id"],
        "kind": "inspection",
        "officer_ids": [ids["officer1"], ids["officer2"]],
        "location": {"lat": 29.15, "lon": 107.1, "accuracy_m": 12.5},
        "address": "水江镇滨江路12号",
        "notes": "webhook benchmark",
    }


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def measure(args: argparse.Namespace, base_url: str, password: str) -> None:
    hanging = Hanging()
    hook_url = await hanging.start()
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        officer = await login(http, "officer1", password)
        admin = await login(http, "admin", password)
        body = await action_body(http, officer)
        endpoint_ids = []
        for _ in range(args.endpoints):
            r = await http.post(
                "/api/v1/webhooks", json={"url": hook_url, "event_types": ["action.created"]}, headers=admin
            )
            r.raise_for_status()
            endpoint_ids.append(r.json()["id"])

        async def set_active(active: bool) -> None:
            for endpoint_id in endpoint_ids:
                r = await http.patch(
                    f"/api/v1/webhooks/{endpoint_id}", json={"active": active}, headers=admin
                )
                r.raise_for_status()

        async def one_round(n: int) -> list[float]:
            out = []
            for _ in range(n):
                occurred = (datetime.now(UTC) - timedelta(minutes=30)).isoformat()
                started = time.perf_counter()
                r = await http.post(
                    "/api/v1/actions", json={**body, "occurred_at": occurred}, headers=officer
                )
                out.append((time.perf_counter() - started) * 1000)
                assert r.status_code == 201, r.text
            return out

        samples: dict[str, list[float]] = {"no endpoint": [], "hanging endpoints": []}
        p50_ratios = []
        await set_active(False)
        await one_round(20)  # warm-up
        for _ in range(args.rounds):
            await set_active(False)
            a = await one_round(args.per_round)
            await set_active(True)
            b = await one_round(args.per_round)
            samples["no endpoint"] += a
            samples["hanging endpoints"] += b
            p50_ratios.append(statistics.median(b) / statistics.median(a))
        await set_active(False)
        pending = 0
        for endpoint_id in endpoint_ids:
            pending += (await http.get(f"/api/v1/webhooks/{endpoint_id}", headers=admin)).json()["pending"]
    print(f"POST /actions, {args.rounds} rounds × {args.per_round} each, {args.endpoints} hanging endpoints")
    await hanging.stop()
    print(f"{'':>20}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
    for name, values in samples.items():
        print(f"{name:>20}{pct(values, 50):>10.2f}{pct(values, 95):>10.2f}{pct(values, 99):>10.2f}")
    a, b = samples["no endpoint"], samples["hanging endpoints"]
    print(
        f"{'hanging / none':>20}{pct(b, 50) / pct(a, 50):>10.2f}{pct(b, 95) / pct(a, 95):>10.2f}"
        f"{pct(b, 99) / pct(a, 99):>10.2f}"
    )
    print(f"p50 ratio per round: {[round(r, 2) for r in p50_ratios]}")
    print(f"connections the hanging endpoints accepted: {hanging.connections}; pending: {pending}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--per-round", type=int, default=100)
    parser.add_argument("--endpoints", type=int, default=3)
    args = parser.parse_args()
    with app_server() as (base_url, password, _):
        asyncio.run(measure(args, base_url, password))


if __name__ == "__main__":
    main()
