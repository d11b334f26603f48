"""A deterministic OpenAI-compatible streaming server with a timing model: the ground truth the
load generator is tested against, and a fast stand-in for a real server in CI."""
