"""SQLite, the first database back end."""
