"""API: launches (owned by the API part; placeholder in the foundation)."""

from ninja import Router

router = Router(tags=["launches"])
