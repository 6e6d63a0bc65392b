"""The install-wide default naming rules (admins): ``/naming-defaults/``."""

from koastops.taxonomy.views.naming import default_urlpatterns

app_name = "taxonomy_defaults"

urlpatterns = default_urlpatterns
