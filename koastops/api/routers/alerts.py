"""(placeholder, filled by its part of the build)"""

from ninja import Router

router = Router(tags=["alerts"])
