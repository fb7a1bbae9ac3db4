"""Tenor: post-loan management and collections."""
