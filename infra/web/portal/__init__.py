"""The web portal: server-rendered pages for the public, cities, reviewers and the
program's staff, in the same process as the API and under the same sessions and rules."""
