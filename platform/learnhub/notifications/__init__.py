"""Notifications feature."""
