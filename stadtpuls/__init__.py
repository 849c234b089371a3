"""Stadtpuls shared core: the `Reading` type, units, the site catalogue and the `Store`."""

__version__ = "0.1.0"
