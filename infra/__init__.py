"""Adapters and the composition root: files, configuration, logging, the event store,
projections, the Temporal client and worker, and the `wwc` CLI."""
