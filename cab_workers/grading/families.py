"""Harness files by runner family: whole-file globs (see ``harness`` for the pattern rule and the
table), and what makes a test file the agent added a runner hook rather than a test."""

from __future__ import annotations

import re

COMMON_HARNESS = (
    ".env",
    ".env.*",
    "Makefile",
    "makefile",
    "GNUmakefile",
    "*.mk",
    "justfile",
    "Justfile",
    "noxfile.py",
)
PYTHON_HARNESS = (
    "conftest.py",
    "pytest.ini",
    ".pytest.ini",
    "pytest.toml",
    ".pytest.toml",
    "sitecustomize.py",
    "usercustomize.py",
    "*.pth",
)
CARGO_HARNESS = (".cargo", "rust-toolchain", "rust-toolchain.toml")
GO_HARNESS = ("go.work", "go.work.sum", "vendor")
NODE_HARNESS = ("node_modules", ".npmrc", "node.config.json")
TSC_HARNESS = ("tsconfig*.json", "jsconfig.json")
JUNIT_HARNESS = (
    "junit-platform.properties",
    "META-INF/services",
    "*/META-INF/services",
    "org/junit",
    "*/org/junit",
    "org/opentest4j",
    "*/org/opentest4j",
)
CMAKE_HARNESS = ("CMakeLists.txt", "*.cmake", "CMakePresets.json", "CMakeUserPresets.json", "gtest", "gmock")
FAMILY_HARNESS = {
    "python": PYTHON_HARNESS,
    "cargo": CARGO_HARNESS,
    "go": GO_HARNESS,
    "node": NODE_HARNESS,
    "tsc": TSC_HARNESS,
    "junit": JUNIT_HARNESS,
    "ctest": CMAKE_HARNESS,
}
"""Whole-file harness globs by runner family (a task is in a family by its runner or language)."""

TEST_FILE_HOOKS = {
    "junit": re.compile(
        r"\b(?:LauncherSessionListener|LauncherDiscoveryListener|TestExecutionListener|PostDiscoveryFilter"
        r"|ExtendWith|RegisterExtension|InvocationInterceptor)\b"
    ),
    "ctest": re.compile(
        r"\bmain\s*\(|\bAddGlobalTestEnvironment\b|\btesting::Environment\b|\bTestEventListener\b"
        r"|\blisteners\s*\(\s*\)"
    ),
}
"""What makes an agent-added test file a runner hook (go and pytest: ``HarnessPolicy.hook_in_test_file``)."""
