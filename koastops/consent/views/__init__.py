"""Consent views: ``matrix`` (the brand's markets by status, settings, evidence export),
``config`` (a market's config, snippet and editor), ``review`` (sign-off and history)."""
