import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koastops.settings")
application = get_asgi_application()

from koastops.core.checks import require_secret_key  # noqa: E402 - needs the settings

require_secret_key()
