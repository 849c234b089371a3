"""Stadtpuls web dashboard: a Dash multi-page app reading the `Store` through a shared cache.

Layers, outermost first: `cli` (serving), `app` (the frame), `pages/*` (layout + thin
callbacks), `figures/*` (DataFrame → Figure, pure), `data/*` (store → DataFrames, no Dash).
"""
