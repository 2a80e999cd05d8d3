import os

from piccolo.conf.apps import AppConfig

from backend.channels.tables import ChannelItem, ChannelOutcome, ChannelStep, LiaisonPoint, TransferAnswer

APP_CONFIG = AppConfig(
    app_name="channels",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[LiaisonPoint, ChannelItem, ChannelStep, ChannelOutcome, TransferAnswer],
    migration_dependencies=[],
    commands=[],
)
