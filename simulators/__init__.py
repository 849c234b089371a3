"""Simulated sensor data for Stadtpuls: pure generators plus a thin MQTT publisher.

Import the parts you need (`simulators.generate`, `simulators.faults`, ...): this package
imports nothing heavy itself, so `stadtpuls --help` stays fast.
"""
