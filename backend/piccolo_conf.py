"""Piccolo configuration (used by `piccolo migrations ...` and the app's migration runner)."""

from piccolo.conf.apps import AppRegistry

from backend.db import engine_from_url
from backend.settings import get_settings

DB = engine_from_url(get_settings().database_url)

APP_REGISTRY = AppRegistry(
    apps=[
        "backend.org.piccolo_app",
        "backend.accounts.piccolo_app",
        "backend.audit.piccolo_app",
        "backend.alerts.piccolo_app",
        "backend.actions.piccolo_app",
        "backend.cases.piccolo_app",
        "backend.live.piccolo_app",
        "backend.evidence.piccolo_app",
        "backend.supervision.piccolo_app",
    ]
)
