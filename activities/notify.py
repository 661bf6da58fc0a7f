"""Notifications to cities. For now a structured log line: this is the seam where e-mail
(or any other channel) plugs in later."""

from __future__ import annotations

import structlog
from temporalio import activity

from activities.contracts import SEND_NOTIFICATION, Notification

log = structlog.get_logger("wwc.notifications")


@activity.defn(name=SEND_NOTIFICATION)
async def send_notification(notification: Notification) -> None:
    log.info("notification", city_key=notification.city_key, kind=notification.kind,
             message=notification.message, program_date=notification.on.isoformat())
