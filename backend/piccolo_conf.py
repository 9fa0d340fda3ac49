"""Piccolo configuration for the CLI and migrations (``PICCOLO_CONF=backend.piccolo_conf``).

Creating an engine does not connect; the app binds its own engine at start-up (backend.db).
"""

from piccolo.conf.apps import AppRegistry

from backend.db import make_engine
from backend.settings import get_settings

DB = make_engine(get_settings())

APP_REGISTRY = AppRegistry(
    apps=[
        "backend.jobs.piccolo_app",
        "backend.cases.piccolo_app",
        "backend.notifications.piccolo_app",
        "backend.integrations.piccolo_app",
        "backend.identity.piccolo_app",
        "backend.workbench.piccolo_app",
        "backend.ratings.piccolo_app",
        "backend.administration.piccolo_app",
        "backend.feedback.piccolo_app",
        "backend.links.piccolo_app",
    ]
)
