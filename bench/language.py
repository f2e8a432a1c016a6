"""The language check, measured: precision and recall on the labelled sets, and its speed.

Labelled sets of clinician-note sentences live in tests/language/data/: `tune.jsonl` (the
lexicon and rules were tuned on it) and `heldout.jsonl` (written at the same time, with other
phrasings, subjects and word orders, and not used for tuning); `outside_a.jsonl` and
`outside_b.jsonl` were written by another author who saw only the guidelines (A was then tuned
on, then B; `outside_c.jsonl`, written after all tuning, never: its figure is the one to
expect on unseen notes). A sentence is predicted
judgemental when the check finds anything in it.

    python -m bench.language            # figures only, no database needed
    python -m bench.language --misses   # also list the sentences it gets wrong
"""

import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "language" / "data"
SETS = ("tune", "heldout", "outside_a", "outside_b", "outside_c")


@dataclass(frozen=True)
class Score:
    judgemental: int
    neutral: int
    true_positives: int
    false_positives: int
    misses: tuple[str, ...]
    false_alarms: tuple[str, ...]

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.judgemental if self.judgemental else 1.0

    @property
    def false_positive_rate(self) -> float:
        return self.false_positives / self.neutral if self.neutral else 0.0


def load(name: str) -> list[dict]:
    lines = (DATA / f"{name}.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def score(name: str) -> Score:
    from language.checker import builtin_lexicon

    lexicon = builtin_lexicon()
    tp = fp = 0
    misses, alarms = [], []
    rows = load(name)
    for row in rows:
        flagged = bool(lexicon.check(row["text"]))
        if row["judgemental"]:
            tp += flagged
            if not flagged:
                misses.append(row["text"])
        elif flagged:
            fp += 1
            alarms.append(row["text"])
    judgemental = sum(1 for r in rows if r["judgemental"])
    return Score(judgemental, len(rows) - judgemental, tp, fp, tuple(misses), tuple(alarms))


def note_2000() -> str:
    """A 2,000-character note mixing neutral text, exempt senses and judgemental words."""
    rows = load("tune")
    text = " ".join(r["text"] for r in rows[::3])
    return text[:2000]


def check_ms_per_2000(samples: int = 300) -> float:
    from language.checker import builtin_lexicon

    lexicon = builtin_lexicon()
    note = note_2000()
    lexicon.check(note)
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        lexicon.check(note)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def figures() -> dict[str, float | int]:
    out: dict[str, float | int] = {}
    for name in SETS:
        result = score(name)
        out[f"language_{name}_judgemental"] = result.judgemental
        out[f"language_{name}_neutral"] = result.neutral
        out[f"language_{name}_precision"] = result.precision
        out[f"language_{name}_recall"] = result.recall
        out[f"language_{name}_false_positive_rate"] = result.false_positive_rate
    out["language_check_ms_per_2000_chars"] = check_ms_per_2000()
    return out


def main() -> None:
    sys.path[:0] = [str(REPO / "backend"), str(REPO)]
    for name, value in figures().items():
        print(f"{name}={value:.3f}" if isinstance(value, float) else f"{name}={value}")
    if "--misses" in sys.argv:
        for name in SETS:
            result = score(name)
            print(f"\n# {name}: missed ({len(result.misses)})")
            print("\n".join(result.misses))
            print(f"\n# {name}: flagged but neutral ({len(result.false_alarms)})")
            print("\n".join(result.false_alarms))


if __name__ == "__main__":
    main()
