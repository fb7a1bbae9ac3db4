"""Tests of the daily close."""
