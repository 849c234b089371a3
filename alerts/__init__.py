"""Alerts: rule evaluation on a schedule, alert state, notifications (docs/operations.md)."""
