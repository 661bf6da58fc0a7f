"""The portal's pages, by audience."""
