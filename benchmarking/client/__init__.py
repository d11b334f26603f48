"""The streaming load generator: stamps bytes on arrival, parses after the run."""
