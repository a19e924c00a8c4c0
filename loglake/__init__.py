"""LogLake: an event-driven log pipeline — raw zone → validate → processed/errors → catalog → SQL."""

__version__ = "0.1.0"
