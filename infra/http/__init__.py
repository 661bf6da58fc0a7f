"""The HTTP API: one more driving adapter beside the CLI, calling the same application
layer. `infra.http.app.build_app` composes it; `infra.http.server` runs it."""
