import os

from piccolo.conf.apps import AppConfig

from backend.audit.tables import AuditEntry, AuditHead, AuditTreeHead

APP_CONFIG = AppConfig(
    app_name="audit",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[AuditEntry, AuditHead, AuditTreeHead],
    migration_dependencies=[],
    commands=[],
)
