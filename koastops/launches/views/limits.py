"""Launch pages: limits (owned by its part; placeholder in the foundation)."""

urlpatterns: list = []
