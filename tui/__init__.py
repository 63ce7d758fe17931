"""trackui tui."""
