"""Open data: what the program publishes of itself (announced certifications only), in
which formats, under which licence, described by which dictionaries, and the badge a
certified city embeds. Pure: the routes (`portal/open_data_pages.py`) read the rows and
hand them here."""
