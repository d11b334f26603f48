"""`python -m benchmarking.tools.launch aiperf|guidellm ARGS`: the tool's CLI in this process,
with the bearer token from OPENAI_API_KEY added to its arguments here, so that the key never
appears on a command line (`ps` shows the argv a process was started with, not sys.argv)."""

from __future__ import annotations

import os
import sys


def with_key(tool: str, argv: list[str], key: str | None) -> list[str]:
    """The tool's argv with the key in the form it takes one."""
    if not key:
        return argv
    if tool == "aiperf":
        return [*argv, "--api-key", key]
    at = argv.index("--backend") + 1
    return [*argv[:at], f"{argv[at]},api_key={key}", *argv[at + 1 :]]


def main(argv: list[str]) -> int:
    tool, rest = argv[0], argv[1:]
    key = os.environ.pop("OPENAI_API_KEY", None)
    sys.argv = [tool, *with_key(tool, rest, key)]
    if tool == "aiperf":
        from aiperf.cli import app  # type: ignore[import-not-found]

        return int(app() or 0)
    from guidellm.__main__ import cli  # type: ignore[import-not-found]

    return int(cli() or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
