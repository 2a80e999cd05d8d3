import os

from piccolo.conf.apps import AppConfig

from backend.sharing.tables import Share, ShareSession

APP_CONFIG = AppConfig(
    app_name="sharing",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Share, ShareSession],
    migration_dependencies=[],
    commands=[],
)
