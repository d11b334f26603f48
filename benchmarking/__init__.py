"""Load generation, datasets, metrics, sweeps and stress tests, plus a timing-exact emulator."""

from pathlib import Path

# This package runs alone (`python -m benchmarking`, in its own environment) and never imports
# the runner, so it finds its checkout itself; the runner's paths are in workflows/paths.py.
CHECKOUT = Path(__file__).resolve().parent.parent
