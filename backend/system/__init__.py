"""Liveness and readiness for load balancers, systemd and the kiosk shell."""

from backend.system.metrics import prometheus_metrics
from backend.system.routes import health, platform_jwks, ready

ROUTES = [health, ready, platform_jwks, prometheus_metrics]
