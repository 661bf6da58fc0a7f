"""The web's JSON face: the API's routes and models, and its docs page."""
