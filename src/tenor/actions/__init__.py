"""Writes, one thin module per capability: API routes and CLI commands call these, never tables."""
