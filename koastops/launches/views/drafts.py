"""Launch pages: drafts (owned by its part; placeholder in the foundation)."""

urlpatterns: list = []
