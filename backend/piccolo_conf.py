"""Piccolo configuration for the CLI and migrations (``PICCOLO_CONF=backend.piccolo_conf``).

Creating an engine does not connect; the app binds its own engine at start-up (backend.db).
The apps are listed once, in ``backend.db.PICCOLO_APPS``.
"""

from backend.db import app_registry, make_engine
from backend.settings import get_settings

DB = make_engine(get_settings())

APP_REGISTRY = app_registry()
