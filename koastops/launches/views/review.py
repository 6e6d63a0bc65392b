"""Launch pages: review (owned by its part; placeholder in the foundation)."""

urlpatterns: list = []
global_urlpatterns: list = []
