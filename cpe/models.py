"""Models arrive with their issue; see docs/roadmap.md."""
