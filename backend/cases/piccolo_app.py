import os

from piccolo.conf.apps import AppConfig

from backend.cases.progress import CaseProgress
from backend.cases.tables import (
    CallbackInbox,
    CallbackNonce,
    CaseCounter,
    CaseDocument,
    CaseEvent,
    CaseFile,
    CaseItem,
    CaseMaterial,
)

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="cases",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "migrations"),
    table_classes=[
        CaseFile,
        CaseItem,
        CaseEvent,
        CaseMaterial,
        CaseDocument,
        CallbackInbox,
        CallbackNonce,
        CaseCounter,
        CaseProgress,
    ],
    migration_dependencies=["backend.jobs.piccolo_app"],
    commands=[],
)
