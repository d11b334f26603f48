"""How the report writes a number, chosen per metric, so that one figure reads the same in every
table (a comparison never puts 81.1 beside 80.68) and a rounded ratio never contradicts its
verdict (a FAIL at 99.6% of its target is not shown as 1.00)."""

from __future__ import annotations

import math
from collections.abc import Callable

Format = Callable[[float], str]
SIGNIFICANT = 3  # latency and throughput: a 95% interval rarely narrower than 1%


def significant(value: float, digits: int = SIGNIFICANT) -> str:
    """`digits` significant figures without an exponent; the whole part is never rounded away
    (2275.2 ms is 2275, 877.4 is 877, 14.60 is 14.6, 0.7512 is 0.751)."""
    if value == 0 or not math.isfinite(value):
        return f"{value:.0f}" if value == 0 else str(value)
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(digits - 1 - magnitude, 0)
    text = f"{value:.{decimals}f}"
    if decimals and abs(float(text)) >= 10 ** (magnitude + 1):  # 9.996 rounds up to 10.00
        text = f"{value:.{decimals - 1}f}"
    return text


def score(value: float) -> str:
    """An eval score, a fraction: three decimals (a 95% interval over 1000 samples is +-0.03)."""
    return f"{value:.3f}"


def share(value: float) -> str:
    return f"{value:.0%}"


def whole(value: float) -> str:
    return f"{value:.0f}"


METRIC_FORMATS: dict[str, Format] = {
    "ttft_ms": significant,
    "tput_user": significant,
    "tput": significant,
    "mean_ttft_ms": significant,
    "p99_ttft_ms": significant,
    "mean_tpot_ms": significant,
    "mean_e2el_ms": significant,
    "output_throughput": significant,
    "total_token_throughput": significant,
    "request_throughput": significant,
    "score": score,
    "cached_share": share,
    "capacity_concurrency": whole,  # the highest concurrency meeting goodput (search=goodput)
    "capacity_rate": significant,
}


def metric_text(metric: str, value: object) -> str:
    """The value as the metric is written everywhere in the report; blank without one."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value != value:
        return ""
    return METRIC_FORMATS.get(metric, significant)(float(value))


def interval_text(metric: str, low: object, high: object) -> str:
    """'[a, b]' in the metric's format, blank without an interval."""
    if not isinstance(low, (int, float)) or not isinstance(high, (int, float)):
        return ""
    return f"[{metric_text(metric, low)}, {metric_text(metric, high)}]"


def ratio_text(ratio: float, percent: bool = False) -> str:
    """A ratio to a target with two decimals (or as a whole percent), and as many more as it
    takes not to read as exactly 1 when it is not: 0.996 is '0.996', never '1.00'."""
    scale, suffix, decimals = (100.0, "%", 0) if percent else (1.0, "", 2)
    text = f"{ratio * scale:.{decimals}f}"
    while ratio != 1.0 and float(text) == scale and decimals < 6:
        decimals += 1
        text = f"{ratio * scale:.{decimals}f}"
    return text + suffix
