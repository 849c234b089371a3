"""Sensor state kept as readings arrive: what the health rules need per sensor, without
scanning history (issue 12 part 3). See docs/architecture.md, "Sensor state"."""
