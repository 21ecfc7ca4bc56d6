"""Demo feature."""
