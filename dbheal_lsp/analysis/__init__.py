"""The analysis engine: find SQL in Python code, learn the schema, and report issues."""
