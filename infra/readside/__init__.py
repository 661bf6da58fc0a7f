"""The read side: projections into read models, and the typed reads of them (the registry,
cohorts, timelines, reports as of a day)."""
