from hypothesis import settings

pytest_plugins = ["tests.pg", "tests.temporal", "tests.seaweed", "tests.xdist_plan"]

# No time limit per example: speed is measured in bench/, not asserted in tests, and on a
# machine busy with other tests Hypothesis's default 200 ms failed pure properties
# (DeadlineExceeded) that take 20 ms when it is quiet.
settings.register_profile("wwc", deadline=None)
settings.load_profile("wwc")
