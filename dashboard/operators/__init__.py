"""Operator login for the dashboard: users file, session, CSRF, throttled login, and the
state-changing actions of the `/alerts` page. Everything public stays public; every POST
here needs a logged-in operator and the session's CSRF token (docs/operations.md, "Login").
"""
