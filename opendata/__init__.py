"""Open data: the public sensors' readings for everyone, in the standards German cities read.

Only what `Catalogue.public_sensors()` yields ever leaves here (closed by default: see
`stadtpuls/catalogue/publication.py`). Bulk CSV files per day and month
(`opendata/files.py`), the DCAT-AP.de catalogue GovData harvests (`opendata/dcat.py`), and the
OGC SensorThings API (`opendata/sta/`, its own subpackage). The landing page `/opendata` is a
dashboard page (`dashboard/pages/opendata.py`) built from `opendata.datasets`.

No Dash here: the routes are plain Flask, installed on the dashboard's server by one call in
`dashboard/app.py`, so the files and the catalogue cost no React and could be served alone.
"""
