"""Data access for the dashboard: store queries in, DataFrames and dataclasses out.

Nothing here imports Dash, so every function is testable without a browser.
"""
