"""Grading: what the scorer container runs and reads.

runners.py          per runner: the flags and environment that make it write a structured
                    report and run every test, and reading the report back
canary.py           the test cab plants, named with a nonce, that must fail
cab_reporter.mjs    cab's ``node --test`` reporter (mounted read-only at /cab-harness)
harness.py          the graded tree: the task's harness files, the hidden tests, the canary
families.py         harness globs by runner family, and runner hooks in agent test files
sections.py         the test-driving parts of shared config files (pyproject, Cargo.toml, go.mod...)
tree.py             files and links as entries, read and written without following links
grade.py            one grading run, shared by the cell pipeline and ``cab tasks validate``
"""
