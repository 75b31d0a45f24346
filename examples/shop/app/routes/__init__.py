"""Request handlers, as plain functions (no web framework needed for the demo)."""
