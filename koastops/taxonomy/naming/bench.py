"""Throughput of the naming engine on a fixed, realistic rule (names per second, one core).

`throughput()` builds a deterministic mix of names (about 80 % valid; the rest with the
mistakes people make: aliases, typos, wrong separators, bad dates, missing or extra parts,
upper case) and times `validate_many` over them. Run `python -m koastops.taxonomy.naming.bench`.
"""

from __future__ import annotations

import random
import time

from .engine import CompiledRule, compile_rule
from .spec import parse_spec

BRANDS = [
    "acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka", "tyrell",
    "cyberdyne", "soylent", "oscorp", "aperture", "vandelay", "pied-piper", "dunder",
    "gringotts", "monarch", "nakatomi", "massive",
]  # fmt: skip
MARKETS = [
    "de", "fr", "uk", "us", "es", "it", "nl", "be", "at", "ch", "se", "no", "dk", "fi", "pl",
    "cz", "pt", "ie", "gr", "hu", "ro", "bg", "hr", "si", "sk", "lt", "lv", "ee", "ca", "au",
]  # fmt: skip
OBJECTIVES = ["lead", "conv", "traffic", "reach", "video", "app"]

RULE = {
    "template": "{brand}_{market}_{objective}_{yyyymm}_{free}",
    "case": "lower",
    "max_length": 120,
    "tokens": {
        "brand": {
            "kind": "vocabulary",
            "values": [{"value": b, "label": b.title(), "aliases": [b[:3] + "x"]} for b in BRANDS],
        },
        "market": {"kind": "vocabulary", "values": [{"value": m} for m in MARKETS]},
        "objective": {
            "kind": "vocabulary",
            "values": [
                {"value": o, "aliases": [o + "s"] if o != "traffic" else []} for o in OBJECTIVES
            ],
        },
        "yyyymm": {"kind": "date", "format": "YYYYMM"},
        "free": {"kind": "free", "min_length": 1, "max_length": 30, "charset": "alnum_dash"},
    },
}

_WORDS = ["spring", "summer", "sale", "launch", "retarget", "lookalike", "promo", "test", "v2"]


def rule() -> CompiledRule:
    return compile_rule(RULE)


def sample_names(count: int, seed: int = 20260501) -> list[str]:
    """`count` names, the same for the same seed; about four in five are valid."""
    rng = random.Random(seed)  # noqa: S311 - benchmark data, not security
    out: list[str] = []
    for _ in range(count):
        parts = [
            rng.choice(BRANDS),
            rng.choice(MARKETS),
            rng.choice(OBJECTIVES),
            f"{rng.randint(2024, 2027)}{rng.randint(1, 12):02d}",
            "-".join(rng.sample(_WORDS, rng.randint(1, 3))) + str(rng.randint(1, 99)),
        ]
        roll = rng.random()
        if roll < 0.80:
            pass
        elif roll < 0.83:
            parts[2] = parts[2] + "s"  # an alias
        elif roll < 0.86:
            word = parts[0]
            at = rng.randrange(len(word) - 1)
            parts[0] = word[:at] + word[at + 1] + word[at] + word[at + 2 :]  # a typo
        elif roll < 0.89:
            parts[3] = parts[3][:4] + "-" + parts[3][4:]  # 2026-05
        elif roll < 0.91:
            parts[3] = parts[3][:4] + "13"  # no such month
        elif roll < 0.94:
            out.append("-".join(parts))  # wrong separator
            continue
        elif roll < 0.96:
            del parts[1]  # a missing part
        elif roll < 0.98:
            parts.append("extra")
        else:
            parts = [p.upper() for p in parts]
        out.append("_".join(parts))
    return out


def throughput(names: int = 100_000) -> float:
    """Names validated per second of one core's time over a deterministic mix.

    The median of three runs. Each compiles the rule afresh, so the per-value memo of
    suggestions starts empty and is only warmed by repeats within the run, as in one real
    batch. The time is this process's CPU time, not the wall clock: on a shared machine
    other processes would otherwise count against the engine.
    """
    batch = sample_names(names)
    rates = []
    for _ in range(3):
        compiled = CompiledRule(parse_spec(RULE))
        began = time.process_time()
        compiled.validate_many(batch)
        rates.append(names / max(time.process_time() - began, 1e-9))
    return sorted(rates)[1]


if __name__ == "__main__":  # pragma: no cover
    print(f"{throughput():,.0f} names/s")
