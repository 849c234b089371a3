"""Test and dev code, not installed with the wheel: real-server harness, dev data, load.

Imported by tests/ and bench/ from a checkout only (pytest's `pythonpath`, the bench scripts'
own `sys.path` entry); no product package may import it (import contract in pyproject.toml).
"""
