// BaselineFormat: raw CSV and JSON tables.
