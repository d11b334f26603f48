"""Environments: the runner's own (bootstrap, standard library only) and per-workflow venvs."""
