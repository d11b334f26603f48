"""The host: weights on disk or from a hub, disk and RAM checks."""
