import os

from piccolo.conf.apps import AppConfig

from backend.ratings.tables import Appeal, FollowUp, FollowUpEvent, Rating, RatingPush, VisitToken

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="ratings",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "migrations"),
    table_classes=[Rating, FollowUp, FollowUpEvent, Appeal, VisitToken, RatingPush],
    migration_dependencies=[],
    commands=[],
)
