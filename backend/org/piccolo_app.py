import os

from piccolo.conf.apps import AppConfig

from backend.org.tables import Delegation, Item, Unit

APP_CONFIG = AppConfig(
    app_name="org",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Unit, Item, Delegation],
    migration_dependencies=[],
    commands=[],
)
