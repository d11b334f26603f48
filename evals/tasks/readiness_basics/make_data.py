"""Write readiness_basics.jsonl: short questions with one-word answers (stdlib only, deterministic).

The questions are made for a very weak model (SmolLM2-135M-Instruct), so that its score sits
mid-range and moves when serving breaks. Families are interleaved so that the first N rows
(lm-eval --limit N) are a representative mix. The four few-shot examples live in
readiness_basics.yaml and are deliberately not among these rows.
Run: python3 make_data.py
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

SEED = 20240601
PER_FAMILY = 30
OUT = Path(__file__).with_name("readiness_basics.jsonl")

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
    "the shop opens at nine",
    "cows eat green grass",
    "the cup fell on the floor",
    "we saw a big ship",
    "the king wore a crown",
    "leaves fall in autumn",
    "the clock hit ten",
]
OPPOSITES = [
    ("hot", "cold"),
    ("up", "down"),
    ("left", "right"),
    ("day", "night"),
    ("black", "white"),
    ("in", "out"),
    ("on", "off"),
    ("fast", "slow"),
    ("wet", "dry"),
    ("happy", "sad"),
    ("boy", "girl"),
    ("yes", "no"),
    ("top", "bottom"),
    ("north", "south"),
    ("east", "west"),
    ("true", "false"),
    ("full", "empty"),
    ("push", "pull"),
    ("early", "late"),
    ("win", "lose"),
    ("big", "small"),
    ("open", "closed"),
    ("first", "last"),
    ("inside", "outside"),
    ("before", "after"),
    ("question", "answer"),
    ("buy", "sell"),
    ("king", "queen"),
    ("above", "below"),
    ("start", "finish"),
]
YES_FACTS = [
    "Is fire hot?",
    "Is snow cold?",
    "Is the sky blue?",
    "Is grass green?",
    "Do fish swim?",
    "Do birds have wings?",
    "Is water wet?",
    "Is the sun bright?",
    "Is two more than one?",
    "Is a cat an animal?",
    "Do dogs bark?",
    "Is ice cold?",
    "Is milk white?",
    "Do cows eat grass?",
    "Is ten more than five?",
    "Can people walk?",
    "Is a rose a flower?",
    "Is a car a vehicle?",
    "Is the ocean big?",
    "Is a lemon sour?",
    "Is sugar sweet?",
    "Is night dark?",
    "Is an apple a fruit?",
    "Do trees have leaves?",
    "Is a week seven days?",
    "Does a dog have four legs?",
    "Is red a color?",
    "Is a banana yellow?",
    "Is coal black?",
    "Do bees make honey?",
]
NO_FACTS = [
    "Is fire cold?",
    "Is snow hot?",
    "Is the sky green?",
    "Is grass purple?",
    "Can fish fly to the moon?",
    "Do cats have wings?",
    "Is water dry?",
    "Is the sun dark?",
    "Is one more than two?",
    "Is a cat a plant?",
    "Do dogs meow?",
    "Is ice hot?",
    "Is milk black?",
    "Do cows eat rocks?",
    "Is five more than ten?",
    "Can a stone talk?",
    "Is a rose a fish?",
    "Is a car a fruit?",
    "Is the ocean tiny?",
    "Is a lemon blue?",
    "Is sugar salty?",
    "Is night bright?",
    "Is an apple a car?",
    "Do trees have wheels?",
    "Is a week two days?",
    "Does a dog have ten legs?",
    "Is red a number?",
    "Is a banana a bird?",
    "Is coal white?",
    "Do bees make milk?",
]
COLORS = [
    ("grass", "green"),
    ("snow", "white"),
    ("a banana", "yellow"),
    ("coal", "black"),
    ("the sky on a clear day", "blue"),
    ("blood", "red"),
    ("milk", "white"),
    ("a lemon", "yellow"),
    ("a ripe tomato", "red"),
    ("a crow", "black"),
    ("an orange", "orange"),
    ("a leaf in summer", "green"),
    ("the sun in a drawing", "yellow"),
    ("a polar bear", "white"),
    ("charcoal", "black"),
]


def fam_repeat(rnd: random.Random) -> list[tuple[str, str]]:
    return [(f"Repeat this word: {w}", w) for w in rnd.sample(WORDS, PER_FAMILY)]


def fam_next_number(rnd: random.Random) -> list[tuple[str, str]]:
    return [
        (f"What number comes after {n}?", str(n + 1)) for n in rnd.sample(range(2, 60), PER_FAMILY)
    ]


def fam_next_letter(rnd: random.Random) -> list[tuple[str, str]]:
    letters = list(string.ascii_uppercase[1:25])  # B..Y, each once (A -> B is a few-shot example)
    rnd.shuffle(letters)
    return [(f"What letter comes after {c}?", chr(ord(c) + 1)) for c in letters]


def fam_add(rnd: random.Random) -> list[tuple[str, str]]:
    pairs = [(a, b) for a in range(1, 9) for b in range(1, 9) if a + b <= 9 and (a, b) != (1, 1)]
    return [(f"What is {a} + {b}?", str(a + b)) for a, b in rnd.sample(pairs, PER_FAMILY)]


def fam_count_on(rnd: random.Random) -> list[tuple[str, str]]:
    out = []
    for s in rnd.sample(range(1, 40), PER_FAMILY):
        seq = ", ".join(str(i) for i in range(s, s + 4))
        out.append((f"Continue the sequence with one number: {seq},", str(s + 4)))
    return out


def fam_first_word(rnd: random.Random) -> list[tuple[str, str]]:
    return [
        (f"What is the first word of this sentence: {s}", s.split()[0])
        for s in rnd.sample(SENTENCES, PER_FAMILY)
    ]


def fam_opposite(rnd: random.Random) -> list[tuple[str, str]]:
    return [(f"What is the opposite of {a}?", b) for a, b in rnd.sample(OPPOSITES, PER_FAMILY)]


def fam_yes_no(rnd: random.Random) -> list[tuple[str, str]]:
    items = [(q, "yes") for q in rnd.sample(YES_FACTS, PER_FAMILY // 2)]
    items += [(q, "no") for q in rnd.sample(NO_FACTS, PER_FAMILY - PER_FAMILY // 2)]
    rnd.shuffle(items)
    return [(f"{q} Answer yes or no.", a) for q, a in items]


def fam_color(rnd: random.Random) -> list[tuple[str, str]]:
    return [(f"What color is {t}?", c) for t, c in rnd.sample(COLORS, len(COLORS))]


def fam_plural(rnd: random.Random) -> list[tuple[str, str]]:
    regular = [
        w
        for w in WORDS
        if not w.endswith(("s", "x", "sh", "ch", "y"))
        and w
        not in (
            "music",
            "water",
            "sugar",
            "light",
            "bread",
            "paper",
            "glass",
            "silver",
            "summer",
            "winter",
            "green",
        )
    ]
    return [
        (f"What is the plural of {w}?", w + "s")
        for w in rnd.sample(regular, min(PER_FAMILY, len(regular)))
    ]


FAMILIES = {
    "repeat_word": fam_repeat,
    "next_number": fam_next_number,
    "next_letter": fam_next_letter,
    "add_small": fam_add,
    "count_on": fam_count_on,
    "first_word": fam_first_word,
    "opposite": fam_opposite,
    "yes_no": fam_yes_no,
    "color": fam_color,
    "plural": fam_plural,
}


def build() -> list[dict[str, str]]:
    rnd = random.Random(SEED)
    per_family = {name: fn(rnd) for name, fn in FAMILIES.items()}
    rows: list[dict[str, str]] = []
    for i in range(max(len(v) for v in per_family.values())):  # round-robin interleave
        for name, items in per_family.items():
            if i < len(items):
                q, a = items[i]
                rows.append(
                    {"id": f"rb-{len(rows):04d}", "family": name, "question": q, "answer": a}
                )
    return rows


def main() -> None:
    rows = build()
    with OUT.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=True) + "\n")
    print(f"wrote {len(rows)} rows to {OUT}")


if __name__ == "__main__":
    main()
