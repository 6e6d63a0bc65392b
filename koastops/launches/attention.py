"""Launches' "needs attention" items (owned by the start-page part; placeholder)."""
