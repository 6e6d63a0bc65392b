from django.apps import AppConfig


class LaunchesConfig(AppConfig):
    name = "koastops.launches"
    label = "launches"
    verbose_name = "Launches"
