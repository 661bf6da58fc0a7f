pytest_plugins = ["tests.pg", "tests.temporal", "tests.seaweed", "tests.xdist_plan"]
