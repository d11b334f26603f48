"""Optional drivers for third-party load generators (AIPerf, GuideLLM): each runs in its own
environment against the same sweep points, and its output becomes our per-point result files."""
