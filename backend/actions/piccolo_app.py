import os

from piccolo.conf.apps import AppConfig

from backend.actions.tables import Action, ActionOfficer

APP_CONFIG = AppConfig(
    app_name="actions",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Action, ActionOfficer],
    migration_dependencies=["backend.org.piccolo_app", "backend.accounts.piccolo_app"],
    commands=[],
)
