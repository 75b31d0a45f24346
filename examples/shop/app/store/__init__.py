"""Catalog and order storage."""
