from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import DoublePrecision
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-28T01:06:50:532687"
VERSION = "1.38.0"
DESCRIPTION = "phone location accuracy and clock offset"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="evidence", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Evidence",
        tablename="evidence",
        column_name="device_clock_offset_s",
        db_column_name="device_clock_offset_s",
        column_class_name="DoublePrecision",
        column_class=DoublePrecision,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="Evidence",
        tablename="evidence",
        column_name="gps_accuracy_m",
        db_column_name="gps_accuracy_m",
        column_class_name="DoublePrecision",
        column_class=DoublePrecision,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
