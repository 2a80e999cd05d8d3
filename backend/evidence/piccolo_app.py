import os

from piccolo.conf.apps import AppConfig

from backend.evidence.tables import Evidence, Upload

APP_CONFIG = AppConfig(
    app_name="evidence",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Evidence, Upload],
    migration_dependencies=[],
    commands=[],
)
