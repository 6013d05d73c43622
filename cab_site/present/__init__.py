"""How a result reads, wherever it is shown (`cab show`, `cab results`, the site's pages): unknowns
spelled out (never 0), UTC times, tokens and cost, secrets masked, and the "run it yourself" lines.

    redact      masking of secret-looking values (keys, tokens, URL passwords)
    values      unknowns, UTC times, a cell's tokens and cost
    rerun       "run it yourself": the image, the command, a one-cell sweep
    sampling    the sampling parameters of model calls: as the agent sent them, as cab set them
"""
