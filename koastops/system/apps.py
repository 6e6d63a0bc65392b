from django.apps import AppConfig


class SystemConfig(AppConfig):
    name = "koastops.system"
    label = "system"
    verbose_name = "System"
