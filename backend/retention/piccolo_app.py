import os

from piccolo.conf.apps import AppConfig

from backend.retention.tables import Disposal, DisposalBatch, LegalHold, ObjectRetention, RetentionRule

APP_CONFIG = AppConfig(
    app_name="retention",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[RetentionRule, LegalHold, DisposalBatch, Disposal, ObjectRetention],
    migration_dependencies=[],
    commands=[],
)
