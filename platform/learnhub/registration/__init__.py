"""Registration feature."""
