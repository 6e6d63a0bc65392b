"""Launch pages: export (owned by its part; placeholder in the foundation)."""

urlpatterns: list = []
