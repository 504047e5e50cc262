"""Models arrive with their issue; see docs/roadmap.md for the shared workflow they build on."""
