"""borgersag: one joined case overview from a municipality's many systems."""

__version__ = "0.1.0"
