"""Write chat_basics.jsonl: one-word instructions answered through the chat template (stdlib only,
deterministic).

Made for a very weak model (SmolLM2-135M-Instruct) asked over /v1/chat/completions: with its
template it answers these with the word alone and ends its turn; with a template that drops the
role markers it continues the transcript (the word, then the next made-up question), so an exact
match of the whole answer fails. Families are interleaved so that the first N rows (lm-eval
--limit N) are a representative mix. The four few-shot turns live in chat_basics.yaml and are
deliberately not among these rows.
Run: python3 make_data.py
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

SEED = 20261205
PER_FAMILY = 24
OUT = Path(__file__).with_name("chat_basics.jsonl")

WORDS = [
    "apple",
    "table",
    "river",
    "green",
    "house",
    "chair",
    "bread",
    "cloud",
    "stone",
    "music",
    "tiger",
    "lemon",
    "window",
    "garden",
    "pencil",
    "rocket",
    "candle",
    "forest",
    "button",
    "planet",
    "orange",
    "silver",
    "basket",
    "mirror",
    "bottle",
    "dragon",
    "winter",
    "summer",
    "pillow",
    "carpet",
    "ocean",
    "horse",
    "paper",
    "water",
    "light",
    "train",
    "clock",
    "sugar",
    "glass",
    "piano",
]
SENTENCES = [
    "the cat sat on the mat",
    "birds fly over the hill",
    "we ate bread with jam",
    "the sun is very bright",
    "my dog likes to run",
    "she reads a good book",
    "the train left at noon",
    "he drank a cup of tea",
    "snow fell on the roof",
    "the baby is sleeping now",
    "fish swim in the lake",
    "they played in the park",
    "the door is painted red",
    "a bee sat on a flower",
    "rain hit the window",
    "the boy kicked the ball",
    "mom baked a cake",
    "the car is very fast",
    "we walked to the shop",
    "the moon is full tonight",
    "frogs jump into the pond",
    "the milk is in the fridge",
    "a bird sang in the tree",
    "the lamp is on the desk",
    "dad fixed the old bike",
    "the kids drew a horse",
    "cows eat green grass",
    "the cup fell on the floor",
]

Row = tuple[str, str]  # (instruction, answer)


def word_rows(template: str, answer: Callable[[str], str], rng: random.Random) -> list[Row]:
    return [(template.format(word), answer(word)) for word in rng.sample(WORDS, PER_FAMILY)]


def last_word_rows(rng: random.Random) -> list[Row]:
    sentences = rng.sample(SENTENCES, PER_FAMILY)
    return [(f"What is the last word of this sentence: {s}", s.split()[-1]) for s in sentences]


def families(rng: random.Random) -> dict[str, list[Row]]:
    return {
        "repeat_word": word_rows("Repeat this word: {}", str, rng),
        "copy_word": word_rows("Copy this word exactly: {}", str, rng),
        "only_word": word_rows("Reply with only the word {}.", str, rng),
        "upper_case": word_rows("Write the word {} in capital letters.", str.upper, rng),
        "last_word": last_word_rows(rng),
    }


def interleaved(by_family: dict[str, list[Row]]) -> list[dict[str, str]]:
    rows = []
    for index in range(PER_FAMILY):
        for family, family_rows in by_family.items():
            instruction, answer = family_rows[index]
            rows.append({"family": family, "instruction": instruction, "answer": answer})
    return [{"id": f"cb-{n:04d}", **row} for n, row in enumerate(rows)]


def main() -> None:
    rows = interleaved(families(random.Random(SEED)))
    OUT.write_text("".join(json.dumps(row) + "\n" for row in rows))
    print(f"wrote {len(rows)} rows to {OUT.name}")


if __name__ == "__main__":
    main()
