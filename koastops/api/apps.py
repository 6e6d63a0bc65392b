from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "koastops.api"
    label = "api"
    verbose_name = "API"
