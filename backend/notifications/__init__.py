"""Notifications: tell an applicant when they must act (补正, draft expiring, signatures ...).

``notify`` writes an in-app notification and, through the job queue (so it commits with
the change that caused it), delivers it to an outside channel (SMS gateway, web push
relay) when ``NOTIFY_WEBHOOK_URL`` is configured, and a text message (``sms``) through the
province's SMS platform for the events that have one, unless the person opted out. The
applicant's apps read the in-app list; nothing is lost when no outside channel is configured.
"""

from backend.notifications.routes import ROUTES
from backend.notifications.service import DELIVER_JOB, deliver_job, notify
from backend.notifications.sms import SMS_JOB, deliver_sms_job

__all__ = ["DELIVER_JOB", "ROUTES", "SMS_JOB", "deliver_job", "deliver_sms_job", "notify"]
