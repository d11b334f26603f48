"""What a point's prompts were like, as its tokenizer counted them (ISL and OSL: mean, min,
max), and for conversations the TTFT of each turn; in the result file and on the console."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence


def spread(values: Sequence[float]) -> dict[str, float] | None:
    """Mean, min and max; None for no values."""
    if not values:
        return None
    return {"mean": round(statistics.fmean(values), 1), "min": min(values), "max": max(values)}


def dataset_lengths(
    prompt_tokens: Sequence[int], output_tokens: Sequence[int], tokenizer: str
) -> dict[str, object]:
    """The `dataset_lengths` of a point: prompt lengths as `tokenizer` counts them, and the
    output lengths asked for (the summary has the lengths the server gave)."""
    return {"tokenizer": tokenizer, "isl": spread(prompt_tokens), "osl": spread(output_tokens)}


def by_turn(rows: Iterable[Mapping[str, object]]) -> list[dict[str, object]]:
    """Per turn number: requests, completed, mean prompt tokens (ours), the share of the prompt
    the server took from its cache (of the server's own count, chat template included: a turn's
    history is cached with its template), and TTFT."""
    turns: dict[int, list[Mapping[str, object]]] = {}
    for row in rows:
        turns.setdefault(int(str(row["turn"])), []).append(row)
    return [_turn_summary(turn, turns[turn]) for turn in sorted(turns)]


def _numbers(rows: Sequence[Mapping[str, object]], key: str) -> list[float]:
    return [float(v) for row in rows if isinstance(v := row.get(key), (int, float))]


def _count(row: Mapping[str, object], key: str) -> int | None:
    value = row.get(key)
    return value if isinstance(value, int) else None


def _turn_summary(turn: int, rows: Sequence[Mapping[str, object]]) -> dict[str, object]:
    done = [row for row in rows if row.get("success")]
    ttft, prompt = _numbers(done, "ttft_ms"), _numbers(done, "prompt_tokens")
    cached = _numbers(done, "cached_tokens")
    counted = [_count(r, "server_prompt_tokens") or _count(r, "prompt_tokens") or 0 for r in done]
    return {
        "turn": turn,
        "requests": len(rows),
        "completed": len(done),
        "mean_prompt_tokens": round(statistics.fmean(prompt), 1) if prompt else None,
        "cached_share": round(sum(cached) / sum(counted), 3) if cached and sum(counted) else None,
        "mean_ttft_ms": round(statistics.fmean(ttft), 2) if ttft else None,
        "median_ttft_ms": round(statistics.median(ttft), 2) if ttft else None,
    }


def _spread_text(name: str, values: object) -> str:
    if not isinstance(values, Mapping):
        return f"{name} -"
    return f"{name} mean {values['mean']:g} (min {values['min']:g}, max {values['max']:g})"


def dataset_notes(
    documents: Sequence[Mapping[str, object]], label: Callable[[Mapping[str, object]], str]
) -> list[str]:
    """Per point of a dataset other than random: its lengths; for conversations, TTFT by turn."""
    lines = []
    for document in documents:
        lengths = document.get("dataset_lengths")
        if document.get("dataset") == "random" or not isinstance(lengths, Mapping):
            continue
        lines.append(
            f"{label(document)}: dataset {document.get('dataset')}, "
            f"{_spread_text('ISL', lengths.get('isl'))}, {_spread_text('OSL', lengths.get('osl'))}"
            f" tokens ({lengths.get('tokenizer')} tokenizer)"
        )
        lines += _turn_lines(document.get("conversations"))
    return lines


def _turn_lines(conversations: object) -> list[str]:
    if not isinstance(conversations, Mapping):
        return []
    lines = [
        f"    {conversations['conversations']} conversations, {conversations['requests']} turns"
        " sent; by turn (prompt tokens include the history):"
    ]
    for turn in conversations.get("by_turn") or []:
        cached = turn.get("cached_share")
        lines.append(
            f"    turn {turn['turn']}: {turn['completed']}/{turn['requests']} completed, "
            f"ISL mean {_text(turn.get('mean_prompt_tokens'))}, "
            f"cached {'-' if cached is None else f'{cached:.0%}'}, "
            f"TTFT mean {_text(turn.get('mean_ttft_ms'))} ms"
        )
    return lines


def _text(value: object) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else "-"
