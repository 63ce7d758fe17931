"""trackui tui/widgets."""
