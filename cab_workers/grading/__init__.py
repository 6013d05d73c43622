"""Grading: what the scorer container runs and reads.

runners.py          per runner: the flags and environment that make it write a structured
                    report and run every test, the canary cab plants, and reading the report back
cab_reporter.mjs    cab's ``node --test`` reporter (mounted read-only at /cab-harness)
harness.py          the graded tree: the task's harness files, the hidden tests, the canary
grade.py            one grading run, shared by the cell pipeline and ``cab tasks validate``
"""
