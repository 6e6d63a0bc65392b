from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "koastops.quality"
    label = "quality"
    verbose_name = "Event quality"
