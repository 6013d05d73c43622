"""One cell attempt: the pipeline's phases, the hidden-test run, snapshots, checkpoints, spans and
recordings."""
