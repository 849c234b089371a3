"""OGC SensorThings API v1.1, read-only, on the dashboard's Flask server at `/sta/v1.1`.

Modules: `ids` (stable numeric ids), `vocab` (observed properties and UCUM units),
`graph` (the catalogue's public sensors as entities), `query` (the `$` options and bounds),
`expression` (`$filter` evaluation on the odata-query AST), `observations` (keyset paging
over the store), `service` (resource paths, `$expand`, JSON) and `routes` (Flask).
"""
