import os

from piccolo.conf.apps import AppConfig

from backend.documents.tables import DocumentCounter, DocumentStep, SupervisionDocument

APP_CONFIG = AppConfig(
    app_name="documents",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[SupervisionDocument, DocumentStep, DocumentCounter],
    migration_dependencies=[],
    commands=[],
)
