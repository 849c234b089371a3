"""Open data: the city's public sensor data in the standards German urban data platforms read.

Only sensors that `Catalogue.public_sensors()` yields ever leave through these interfaces.
"""
