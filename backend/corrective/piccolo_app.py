import os

from piccolo.conf.apps import AppConfig

from backend.corrective.tables import CorrectiveAction

APP_CONFIG = AppConfig(
    app_name="corrective",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[CorrectiveAction],
    migration_dependencies=[],
    commands=[],
)
