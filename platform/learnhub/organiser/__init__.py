"""Organiser feature."""
