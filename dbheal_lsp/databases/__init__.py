"""The database back ends: each gives the schema, a verdict on a statement, and schema fixes."""
