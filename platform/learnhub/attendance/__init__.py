"""Attendance feature."""
