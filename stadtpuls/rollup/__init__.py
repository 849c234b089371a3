"""Roll-ups: 15-minute, hourly and daily summaries of every series, written by Stadtpuls.

`tiers` (what a tier row holds), `compute` (raw readings or lower-tier rows -> rows, pure),
`planning` (which tier answers an `aggregate` query, and merging its parts), `dirty` (which
windows changed), `worker` (recomputing them), `retention` (deleting what is too old).
docs/architecture.md, "Roll-ups", has the whole picture.
"""
