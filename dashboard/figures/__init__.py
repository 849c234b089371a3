"""Figures: pure functions from DataFrames and dataclasses to Plotly figures."""
