"""trackui tui/screens."""
