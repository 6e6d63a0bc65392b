from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """Development tools (demo data, benchmark, dev server). May import every app;
    no app imports it."""

    name = "koastops.devtools"
    label = "devtools"
    verbose_name = "Development tools"
