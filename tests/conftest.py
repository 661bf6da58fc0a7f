pytest_plugins = ["tests.pg", "tests.temporal", "tests.xdist_plan"]
