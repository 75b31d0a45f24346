"""dbheal: keeps application code and its SQL database in agreement, and heals both."""

__version__ = "0.1.0"
