import os

from piccolo.conf.apps import AppConfig

from backend.meetings.tables import LeadingGroup, Meeting, MeetingUnit

APP_CONFIG = AppConfig(
    app_name="meetings",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[LeadingGroup, Meeting, MeetingUnit],
    migration_dependencies=[],
    commands=[],
)
