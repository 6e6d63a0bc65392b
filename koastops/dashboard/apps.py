from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class DashboardConfig(AppConfig):
    name = "koastops.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"

    def ready(self) -> None:
        # Every installed app's ``attention`` module registers its providers on import
        # (koastops.catalog.attention, koastops.accounts.attention, …), as the admin
        # site finds ``admin`` modules.
        autodiscover_modules("attention")
