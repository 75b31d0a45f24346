"""A small accounts service on PostgreSQL with psycopg 3."""
