"""The game catalogue: one folder per game, looked up by key through the registry."""
