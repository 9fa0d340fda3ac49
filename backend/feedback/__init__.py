"""测试问题反馈: problems staff find during the trial, triaged and fixed by the platform team,
confirmed by the reporter. ``ROUTES`` for the composition root."""

from __future__ import annotations


def __getattr__(name: str):
    if name == "ROUTES":
        from backend.feedback.routes import ROUTES

        return ROUTES
    raise AttributeError(name)
