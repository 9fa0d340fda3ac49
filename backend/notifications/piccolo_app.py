import os

from piccolo.conf.apps import AppConfig

from backend.notifications.tables import Notification, NotificationPreference, SmsMessage

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="notifications",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "migrations"),
    table_classes=[Notification, SmsMessage, NotificationPreference],
    migration_dependencies=[],
    commands=[],
)
