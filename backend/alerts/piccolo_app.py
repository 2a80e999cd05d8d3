import os

from piccolo.conf.apps import AppConfig

from backend.alerts.tables import Alert

APP_CONFIG = AppConfig(
    app_name="alerts",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Alert],
    migration_dependencies=[],
    commands=[],
)
