"""The program's languages (en, es, pt) for pages, mail and the timeline: catalogs, words,
number and date formatting."""
