"""`loglake ui`: a local, read-only web console over the lake (explorer, SQL, errors, objects)."""
