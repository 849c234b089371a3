"""Reports for facility managers: printable document and CSV (issue 12)."""
