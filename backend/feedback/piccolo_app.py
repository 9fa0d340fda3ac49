import os

from piccolo.conf.apps import AppConfig

from backend.feedback.tables import (
    Consultation,
    ConsultationComment,
    ConsultationReply,
    FeedbackEvent,
    FeedbackReport,
    FeedbackScreenshot,
)

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="feedback",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "migrations"),
    table_classes=[
        FeedbackReport,
        FeedbackScreenshot,
        FeedbackEvent,
        Consultation,
        ConsultationComment,
        ConsultationReply,
    ],
    migration_dependencies=[],
    commands=[],
)
