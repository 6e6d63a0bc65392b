from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "koastops.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from koastops.core import checks  # noqa: F401 - registers the system checks
