"""`stadtpuls rollup`: build roll-up tiers for existing data (backfill) and apply retention.

The tiers themselves, their computation and the worker that keeps them current live in the
core (`stadtpuls/rollup/`), because the stores and the ingest use them too.
"""
