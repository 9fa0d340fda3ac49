"""Fixtures for connector tests; the machinery lives in ``connectors_support``."""

from connectors_support import data, env, platform_key, receiver, reset_sims  # noqa: F401
