from __future__ import annotations

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from common.metrics import register_scrape_collector
        from notifications import checks  # noqa: F401 - registers the system checks
        from notifications.metrics import OutboxCollector

        register_scrape_collector(OutboxCollector())
