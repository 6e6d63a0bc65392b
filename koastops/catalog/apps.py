from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "koastops.catalog"
    label = "catalog"
    verbose_name = "Catalog"
