"""Learning feature."""
