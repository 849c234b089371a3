"""Lobby screens: `/kiosk/<screen>`, scenes from the catalogue, one small client script."""
