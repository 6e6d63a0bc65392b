from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "koastops.consent"
    label = "consent"
    verbose_name = "Consent governance"
