"""The pure domain model: specifications, assets, compatibility rules and errors (stdlib only)."""
