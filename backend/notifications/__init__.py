"""Notifications: tell an applicant when they must act (补正, draft expiring, signatures ...).

``notify`` writes an in-app notification and, through the job queue (so it commits with
the change that caused it), delivers it to an outside channel (SMS gateway, web push
relay) when ``NOTIFY_WEBHOOK_URL`` is configured. The applicant's apps read the in-app
list; nothing is lost when no outside channel is configured.
"""

from backend.notifications.routes import ROUTES
from backend.notifications.service import DELIVER_JOB, deliver_job, notify

__all__ = ["DELIVER_JOB", "ROUTES", "deliver_job", "notify"]
