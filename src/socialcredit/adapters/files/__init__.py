"""Files the system reads: records (CSV, JSON Lines) and definitions (YAML)."""
