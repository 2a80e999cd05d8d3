"""Fault tests: real backing services, each started privately on a free port (or, for PostgreSQL, a
database of their own) and stopped by PID, then taken away while the app serves."""

from __future__ import annotations

import pytest

_skipped: list[str] = []


def _note(report: pytest.TestReport | pytest.CollectReport) -> None:
    if report.skipped and "tests/faults/" in report.nodeid and isinstance(report.longrepr, tuple):
        _skipped.append(f"{report.nodeid}: {report.longrepr[2]}")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _note(report)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    _note(report)  # a module that skips itself (PostgreSQL-only tests on SQLite)


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    # Visible without -rs: a fault test that did not run must say why.
    for line in _skipped:
        terminalreporter.write_line(f"fault test skipped: {line}", yellow=True)


@pytest.fixture
async def forget_evidence_stored_elsewhere(migrated: None):  # type: ignore[no-untyped-def]
    """For a test whose evidence lives in a store of its own on the suite's shared database: remove
    the rows it made, so `fieldwatch verify` (another test) finds no row whose bytes it cannot see."""
    from datetime import UTC, datetime

    from backend.evidence.tables import Evidence
    from tests.conftest import forget_evidence

    started = datetime.now(UTC)
    yield
    await forget_evidence(Evidence.received_at >= started)
