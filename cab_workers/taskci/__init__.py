"""Task CI: what ``cab tasks validate`` and ``cab tasks mutate`` run against a task folder.

taskcheck          hidden tests fail before, pass after, diff == expected, the exploit ledger
task_ci            one task's whole validation (environment, flakes, pipeline), in its scorer image
task_env           the task's environment: static Dockerfile checks, apt names, the image build
dockerfile_check   the static rules (pure)
pipeline_check     oracle and noop cells through the real pipeline
validation_state   the verdict kept per task content hash under ``$CAB_HOME/validation``
mutantcheck        grading mutants (kept when the hidden tests kill them)
mutanttasks        writing kept mutants as task folders
failure_messages   failing tests' names and messages from a runner's report, for mutant prompts
"""
