"""trackui trackui/integrations."""
