"""The `spec_tests` workflow: does the server speak the OpenAI API the way clients rely on it?
One check per behaviour, each PASS, FAIL, SKIPPED (an engine's documented lack, from
engine_limits.yaml, that the server confirmed when the check ran) or ERROR, written to
spec_tests.json after every check."""
