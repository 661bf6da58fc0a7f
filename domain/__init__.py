"""The pure core of the certification service: standards, scoring, program rules and the
city lifecycle decider. Nothing here does I/O, reads a clock or draws random numbers."""
