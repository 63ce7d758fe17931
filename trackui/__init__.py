"""trackui: placeholder replaced below."""
