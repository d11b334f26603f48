"""`python -m evals.tokenizer_folder SOURCE DEST`: the model's tokenizer on this host (a GGUF
file, a tokenizer.json or a weights folder) as a folder Hugging Face's AutoTokenizer loads
offline, so lm-eval counts tokens with the model's own tokenizer and fetches nothing.
Runs in the evals environment (it has `tokenizers`)."""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarking.local_tokenizer import TokenizerSourceError, load_local_tokenizer, write_hf_folder


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m evals.tokenizer_folder SOURCE DEST", file=sys.stderr)
        return 2
    source, dest = Path(argv[0]), Path(argv[1])
    try:
        folder = write_hf_folder(load_local_tokenizer(source), dest)
    except TokenizerSourceError as error:
        print(f"no tokenizer from {source}: {error}", file=sys.stderr)
        return 1
    print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
