"""A mutation fuzzer for scenario files (used by tests/test_fuzz.py and benchmarks/fuzz.py).

Each case is a shipped scenario with a few random mutations: lines deleted,
duplicated, swapped or re-indented, values replaced by nasty ones (YAML tags,
huge numbers, deep nesting, aliases, odd characters), the file truncated.
Seeded, so a failing case can be replayed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

NASTY = [
    "!!int x",
    "!!float 1 2",
    "!!bool yes 1",
    "!!timestamp x",
    "!!binary AAAA",
    "!!set {a, b}",
    "!!python/object:os.system x",
    "9" * 5000,
    "-" * 3000 + "1",
    "+".join(["1"] * 600),
    "[" * 300 + "]" * 300,
    "{a: " * 200 + "1" + "}" * 200,
    "&a [*a]",
    "*nowhere",
    "1e999",
    ".nan",
    "-.inf",
    "'\\x00'",
    '"\\ud800"',
    "\t",
    "~",
    "[]",
    "{}",
    "''",
    "(10**10000)**10000",
    "2.0**10000 > 0",
    "[1][5]",
    "min()",
    "'a' * 10**9",
    "range(10**10)",
    "x.__class__",
    "__import__('os')",
    "lambda: 1",
    "{x}",
    "{x:>999999999}",
    "{!r}",
    "fork[",
    "fork[i]",
    "q[0]",
    "0",
    "-1",
    "10**20",
    "true",
    "null",
    "yes",
    "1.5",
    '"{actor} {i:>5}"',
    "[1, 2, [3, [4, [5]]]]",
    "{type: lock, value: 3}",
    "{type: semaphore, maxsize: 2}",
    "{type: event, value: true}",
    "{type: variable, value: start}",
    "{type: lock, count: 3}",
    "{type: barrier, parties: 0}",
    "{type: queue, maxsize: -1}",
    "{type: nonsense}",
    "{sleep: -1}",
    "{join: nobody}",
    "{acquire: fork[99]}",
]


def _mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    for _ in range(rng.randint(1, 3)):
        if not lines:
            break
        k = rng.randrange(len(lines))
        op = rng.randrange(8)
        if op == 0:
            del lines[k]
        elif op == 1:
            lines.insert(k, lines[rng.randrange(len(lines))])
        elif op == 2:
            j = rng.randrange(len(lines))
            lines[k], lines[j] = lines[j], lines[k]
        elif op == 3:
            lines[k] = " " * rng.choice((0, 1, 3, 7)) + lines[k].lstrip()
        elif op in (4, 5):  # a value replaced by a nasty one
            line = lines[k]
            if ":" in line:
                key = line.split(":", 1)[0]
                lines[k] = f"{key}: {rng.choice(NASTY)}"
            else:
                lines[k] = f"{line} {rng.choice(NASTY)}"
        elif op == 6:
            cut = rng.randrange(len(text) + 1)
            return text[:cut]
        else:  # a token swapped for another word of the file
            words = re.findall(r"\w+", text)
            if words:
                lines[k] = re.sub(r"\w+", rng.choice(words), lines[k], count=1)
    return "\n".join(lines) + ("\n" if rng.random() < 0.9 else "")


def cases(count: int, seed: int = 1) -> Iterator[tuple[str, str]]:
    """``count`` (name, mutated text) pairs, the same every time for a seed."""
    rng = random.Random(seed)
    sources = sorted(SCENARIOS.glob("*.yaml"))
    texts = [(p.stem, p.read_text(encoding="utf-8")) for p in sources]
    for n in range(count):
        name, text = texts[rng.randrange(len(texts))]
        yield f"{name}#{n}", _mutate(text, rng)
