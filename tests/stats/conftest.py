"""Statistics tests use the back-office platform fixture (PostgreSQL and SQLite, virtual clock)."""

from tests.workbench.conftest import platform, start_ms  # noqa: F401 - the shared fixtures
