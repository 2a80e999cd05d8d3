import os

from piccolo.conf.apps import AppConfig

from backend.workdays.tables import CalendarDay, CalendarYear

APP_CONFIG = AppConfig(
    app_name="workdays",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[CalendarYear, CalendarDay],
    migration_dependencies=[],
    commands=[],
)
