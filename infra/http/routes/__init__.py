"""The API's routes, one module per audience; each route declares its access rule."""
