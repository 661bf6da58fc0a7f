"""What every adapter stands on: configuration, logs, tracing, metrics, errors, files, the
process's own resources."""
