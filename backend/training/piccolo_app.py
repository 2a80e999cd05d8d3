import os

from piccolo.conf.apps import AppConfig

from backend.training.tables import (
    AssessmentRun,
    Attendance,
    ExamScore,
    Training,
    TrainingTarget,
    TrainingYear,
)

APP_CONFIG = AppConfig(
    app_name="training",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Training, TrainingTarget, Attendance, ExamScore, TrainingYear, AssessmentRun],
    migration_dependencies=[],
    commands=[],
)
