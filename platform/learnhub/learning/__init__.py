"""Learning path: module progress, material views, discussions, certificates."""
