"""Liveness and readiness for load balancers, systemd and the kiosk shell."""

from backend.system.routes import health, ready

ROUTES = [health, ready]
