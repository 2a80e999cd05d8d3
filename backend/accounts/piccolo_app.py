import os

from piccolo.conf.apps import AppConfig

from backend.accounts.tables import (
    Certificate,
    CertificateEvent,
    LoginFailure,
    Membership,
    PasswordReset,
    RefreshToken,
    Session,
    SigningRight,
    UnitResponder,
    User,
)

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[
        User,
        Membership,
        Certificate,
        CertificateEvent,
        Session,
        RefreshToken,
        LoginFailure,
        PasswordReset,
        SigningRight,
        UnitResponder,
    ],
    migration_dependencies=["backend.org.piccolo_app"],
    commands=[],
)
