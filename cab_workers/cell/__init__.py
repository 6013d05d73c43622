"""One cell attempt: the pipeline's phases, the hidden-test run, snapshots, checkpoints, spans,
recordings and the artifacts (agent diff, terminal cast) a result carries to the store."""
