"""Users, groups, permissions and API keys."""
