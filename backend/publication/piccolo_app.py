import os

from piccolo.conf.apps import AppConfig

from backend.publication.tables import Publication

APP_CONFIG = AppConfig(
    app_name="publication",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Publication],
    migration_dependencies=["backend.cases.piccolo_app"],
    commands=[],
)
