import os

from piccolo.conf.apps import AppConfig

from backend.supervision.tables import ChecklistTemplate, Invitation, Nomination, SpotCheck

APP_CONFIG = AppConfig(
    app_name="supervision",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Invitation, ChecklistTemplate, SpotCheck, Nomination],
    migration_dependencies=[],
    commands=[],
)
