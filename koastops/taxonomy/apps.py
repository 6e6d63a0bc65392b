from django.apps import AppConfig


class TaxonomyConfig(AppConfig):
    name = "koastops.taxonomy"
    label = "taxonomy"
    verbose_name = "Tracking plan and naming rules"
