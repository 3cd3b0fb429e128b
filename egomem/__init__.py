"""egomem: a local-first memory for a person's life."""

__version__ = "0.1.0"
