"""Fixtures of the PWA end-to-end tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def pwa_server(embedded_server):
    """The platform as ``make run`` starts it: applicants log in through the sandbox OIDC provider."""
    return embedded_server
