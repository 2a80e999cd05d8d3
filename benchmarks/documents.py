"""Supervision documents: what the GB/T 9704 template costs per PDF page against typst's own minimal
render of the same text, and issuance throughput (number + PDF + commit) under 8 concurrent clients.

    python benchmarks/documents.py [--iterations 20] [--documents 160] [--clients 8] [--no-pg] [--json OUT]

Every iteration changes the text, so typst's incremental cache cannot answer from a previous run.
Issuance runs the real app in-process (httpx over ASGI) on a throw-away SQLite directory and, unless
--no-pg, a throw-away PostgreSQL database; the baseline in the same run is the same clients reading
a document (GET) at the same concurrency."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import logging
import statistics
import sys
import time
import uuid
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    DEFAULT_PG_URL,
    log,
    machine,
    pg_reachable,
    scratch_settings,
    table,
    temp_data_dir,
    temp_pg_database,
    write_json,
)

MINIMAL = b"""#let d = json(bytes(sys.inputs.data))
#set page(paper: "a4")
#set text(font: "Noto Serif CJK SC", size: 16pt, lang: "zh")
#for p in d.paragraphs [
  #par(p)
]
"""
PASSWORD = "bench-documents-password"  # noqa: S105 (users of a throw-away database)
FACT = "经查你单位执法人员现场执法时未全程开启执法记录仪存在问题"


def _row(i: int, repeat: int) -> dict[str, Any]:
    return {
        "facts": f"{FACT}{i}" * repeat,
        "basis": "《行政执法监督条例》",
        "requirement": "请组织整改并书面报告整改情况。",
        "due_on": date(2026, 12, 23),
        "due_provisional": False,
        "number": f"南川司监建〔2026〕{i}号",
        "title": "关于规范现场执法行为的监督建议书",
        "type": "proposal",
        "issued_on": date(2026, 12, 2),
    }


def bench_pdf(iterations: int) -> list[dict[str, Any]]:
    import typst

    from backend.documents import pdf

    compiler = pdf._get_compiler()
    results = []
    for label, repeat in (("1 page", 4), ("3 pages", 40)):
        template, minimal, pages = [], [], 0
        for i in range(iterations + 2):  # the first two warm the font cache
            data = pdf.content(_row(i, repeat), "南川区西城街道办事处", "重庆市南川区司法局", None)
            start = time.perf_counter()
            out = pdf.render_pdf(data)
            middle = time.perf_counter()
            plain = compiler.compile(
                input=MINIMAL, format="pdf", sys_inputs={"data": json.dumps(data, ensure_ascii=False)}
            )
            end = time.perf_counter()
            assert isinstance(plain, bytes) and isinstance(out, bytes)
            if i >= 2:
                template.append(middle - start)
                minimal.append(end - middle)
            pages = out.count(b"/Type /Page\n") or out.count(b"/Type/Page") or pages
        n_pages = 1 if repeat == 4 else 3
        t, m = statistics.median(template), statistics.median(minimal)
        results.append(
            {
                "document": label,
                "template_ms_per_page": round(t * 1000 / n_pages, 1),
                "minimal_ms_per_page": round(m * 1000 / n_pages, 1),
                "ratio": round(t / m, 2),
                "typst": typst.__version__ if hasattr(typst, "__version__") else "",
            }
        )
    return results


async def _world(client, admin_headers) -> tuple[dict[str, str], dict[str, str], str]:
    """A drafting supervisor, a signer and a target unit."""

    async def user(name: str, unit: str) -> str:
        response = await client.post(
            "/api/v1/users",
            json={
                "username": f"{name}{uuid.uuid4().hex[:6]}",
                "password": PASSWORD,
                "display_name": name,
                "roles": ["supervisor"],
                "unit_ids": [unit],
            },
            headers=admin_headers,
        )
        return response.json()["username"], response.json()["id"]

    unit = (
        await client.post("/api/v1/units", json={"name": "司法局", "kind": "justice"}, headers=admin_headers)
    ).json()
    town = (
        await client.post(
            "/api/v1/units", json={"name": "西城街道", "kind": "township"}, headers=admin_headers
        )
    ).json()
    drafter, _ = await user("drafter", unit["id"])
    signer, signer_id = await user("signer", unit["id"])
    await client.put(f"/api/v1/users/{signer_id}/capabilities", json={"signing": True}, headers=admin_headers)
    return await _login(client, drafter), await _login(client, signer), town["id"]


async def _login(client, username: str) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _concurrently(client, clients: int, requests: list[tuple[str, str]], headers) -> dict[str, float]:
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for r in requests:
        queue.put_nowait(r)
    latencies: list[float] = []

    async def worker() -> None:
        while not queue.empty():
            method, url = queue.get_nowait()
            start = time.perf_counter()
            response = await client.request(method, url, headers=headers)
            latencies.append(time.perf_counter() - start)
            assert response.status_code == 200, response.text

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    seconds = time.perf_counter() - start
    latencies.sort()
    return {
        "per_s": round(len(requests) / seconds, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1),
    }


async def bench_issue(database_url: str, data_dir: Path, documents: int, clients: int) -> dict[str, Any]:
    import httpx

    from backend.accounts import schemas as a
    from backend.accounts import services as accounts
    from backend.app import create_app
    from backend.db import engine_from_url, migrate
    from backend.settings import Settings

    with contextlib.redirect_stdout(io.StringIO()):
        await migrate(engine_from_url(database_url))
    settings = replace(
        Settings.from_env(),
        data_dir=data_dir,
        database_url=database_url,
        media_url=f"file://{data_dir / 'media'}",
        login_rate_per_minute=100_000,
    )
    await accounts.create_user(
        None,
        a.UserCreate(
            username="benchadmin", password=PASSWORD, display_name="admin", roles=["admin"], unit_ids=[]
        ),
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=transport, base_url="http://bench.local") as client,
    ):
        drafter, signer, town = await _world(client, await _login(client, "benchadmin"))
        ids = []
        for i in range(documents):
            body = {
                "type": "proposal",
                "unit_id": town,
                "title": f"监督建议书{i}",
                "facts": FACT * 6,
                "deadline": {"days": 10},
            }
            ids.append(
                (await client.post("/api/v1/supervision-documents", json=body, headers=drafter)).json()["id"]
            )
        issue = await _concurrently(
            client, clients, [("POST", f"/api/v1/supervision-documents/{i}/issue") for i in ids], signer
        )
        read = await _concurrently(
            client, clients, [("GET", f"/api/v1/supervision-documents/{i}") for i in ids], signer
        )
        numbers = await client.get(
            "/api/v1/supervision-documents", params={"limit": 200, "status": "issued"}, headers=signer
        )
        seqs = sorted(int(d["number"].split("〕")[1].removesuffix("号")) for d in numbers.json()["items"])
        assert seqs == list(range(1, min(documents, 200) + 1)), "numbers must be 1..N, each once"
    return {"issue": issue, "read": read, "ratio_issue_to_read": round(issue["per_s"] / read["per_s"], 3)}


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--documents", type=int, default=160)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--json")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with scratch_settings():
        log("PDF render per page …")
        pdf_rows = bench_pdf(args.iterations)
        print("### PDF render per page (median)\n")
        print(
            table(
                [
                    "document",
                    "GB/T 9704 template (ms/page)",
                    "typst minimal, same text (ms/page)",
                    "template / minimal",
                ],
                [
                    [r["document"], r["template_ms_per_page"], r["minimal_ms_per_page"], r["ratio"]]
                    for r in pdf_rows
                ],
            )
        )
        issue_rows: dict[str, Any] = {}
        with temp_data_dir() as data_dir:
            log("issuance on SQLite …")
            issue_rows["sqlite"] = await bench_issue(
                f"sqlite:///{data_dir / 'bench.sqlite3'}", data_dir, args.documents, args.clients
            )
        if not args.no_pg and (reason := await pg_reachable(args.pg_url)) is None:
            async with temp_pg_database(args.pg_url, "fw_docbench") as url:
                with temp_data_dir() as data_dir:
                    log("issuance on PostgreSQL …")
                    issue_rows["postgres"] = await bench_issue(url, data_dir, args.documents, args.clients)
        elif not args.no_pg:
            log(f"PostgreSQL skipped: {reason}")
        print(f"\n### Issuance under {args.clients} concurrent clients ({args.documents} documents)\n")
        print(
            table(
                [
                    "database",
                    "issue/s",
                    "issue p50 ms",
                    "issue p95 ms",
                    "read/s (baseline)",
                    "read p95 ms",
                    "issue / read",
                ],
                [
                    [
                        db,
                        r["issue"]["per_s"],
                        r["issue"]["p50_ms"],
                        r["issue"]["p95_ms"],
                        r["read"]["per_s"],
                        r["read"]["p95_ms"],
                        r["ratio_issue_to_read"],
                    ]
                    for db, r in issue_rows.items()
                ],
            )
        )
    write_json(args.json, {"machine": machine(), "pdf": pdf_rows, "issue": issue_rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
