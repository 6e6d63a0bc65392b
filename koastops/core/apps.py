from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "koastops.core"
    label = "core"
    verbose_name = "System"
