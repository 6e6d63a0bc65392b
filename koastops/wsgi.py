import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koastops.settings")
application = get_wsgi_application()

from koastops.core.checks import require_secret_key  # noqa: E402 - needs the settings

require_secret_key()
