"""The results site: static HTML pages of sweeps, built from the store."""
