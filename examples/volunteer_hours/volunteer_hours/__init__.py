"""A volunteer-hours log, as a plugin of socialcredit (docs/plugins.md)."""
