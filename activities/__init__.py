"""Thin activities: event-store I/O, scoring, notifications and cohort announcements.
Workflows import only `activities.contracts` (names and models, no I/O)."""
