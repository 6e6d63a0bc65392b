"""Taxonomy views, one module per part of the feature."""
