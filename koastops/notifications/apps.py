from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "koastops.notifications"
    label = "notifications"
    verbose_name = "Notifications"
