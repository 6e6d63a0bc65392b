from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "koastops.activity"
    label = "activity"
    verbose_name = "Activity log"
