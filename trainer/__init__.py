"""trackui trainer."""
