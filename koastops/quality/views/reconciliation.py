"""(placeholder, filled by its part of the build)"""

urlpatterns: list = []
