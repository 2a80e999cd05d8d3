import os

from piccolo.conf.apps import AppConfig

from backend.reports.tables import FileReviewDraw, FileReviewScore, Report, ReportSetting

APP_CONFIG = AppConfig(
    app_name="reports",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Report, ReportSetting, FileReviewDraw, FileReviewScore],
    migration_dependencies=[],
    commands=[],
)
