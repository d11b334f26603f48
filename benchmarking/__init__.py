"""Load generation, datasets, metrics, sweeps and stress tests, plus a timing-exact emulator."""
