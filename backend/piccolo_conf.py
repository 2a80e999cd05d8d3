"""Piccolo configuration, for ``piccolo migrations ...`` and the app's migration runner.

``DB`` is looked up lazily: importing this module builds no engine. The engine bound by the app (or
the test suite) is the one Piccolo sees; a Piccolo command run on its own binds one from the
FIELDWATCH_* settings."""

from typing import Any

from piccolo.conf.apps import AppRegistry

from backend.db import bind, bound_engine, engine_from_url
from backend.settings import get_settings

APP_REGISTRY = AppRegistry(
    apps=[
        "backend.org.piccolo_app",
        "backend.workdays.piccolo_app",
        "backend.accounts.piccolo_app",
        "backend.audit.piccolo_app",
        "backend.alerts.piccolo_app",
        "backend.actions.piccolo_app",
        "backend.cases.piccolo_app",
        "backend.live.piccolo_app",
        "backend.evidence.piccolo_app",
        "backend.supervision.piccolo_app",
        "backend.documents.piccolo_app",
        "backend.corrective.piccolo_app",
        "backend.publication.piccolo_app",
        "backend.webhooks.piccolo_app",
        "backend.channels.piccolo_app",
        "backend.training.piccolo_app",
        "backend.retention.piccolo_app",
        "backend.sharing.piccolo_app",
        "backend.reports.piccolo_app",
        "backend.meetings.piccolo_app",
    ]
)


def __getattr__(name: str) -> Any:
    if name != "DB":
        raise AttributeError(name)
    engine = bound_engine()
    if engine is None:
        engine = engine_from_url(get_settings().database_url)
        bind(engine)
    return engine
