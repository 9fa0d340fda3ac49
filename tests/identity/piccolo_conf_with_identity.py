"""Piccolo configuration for tests: the platform's apps plus identity (until the lead registers it)."""

from piccolo.conf.apps import AppRegistry

from backend.db import make_engine
from backend.settings import get_settings

DB = make_engine(get_settings())

APP_REGISTRY = AppRegistry(apps=["backend.jobs.piccolo_app", "backend.identity.piccolo_app"])
