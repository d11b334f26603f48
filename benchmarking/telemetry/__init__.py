"""The server's own view beside every measured point: its Prometheus `/metrics`, scraped by a
process of its own (never the load generator's) and summarised per point."""
