"""The web: one HTTP adapter (app, server, routing, access rules, middleware, problems,
caching) with two faces, `api/` (JSON) and `portal/` (pages), neither importing the other.
`infra.web.app.build_app` composes them; `infra.web.server` runs it."""
