import os

from piccolo.conf.apps import AppConfig

from backend.live.tables import LatestPosition, LiveEvent, Position

APP_CONFIG = AppConfig(
    app_name="live",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[LiveEvent, Position, LatestPosition],
    migration_dependencies=["backend.accounts.piccolo_app"],
    commands=[],
)
