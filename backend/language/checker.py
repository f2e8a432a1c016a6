"""The language check (Guideline 7): judgemental terms in clinician text, with suggestions.

Matching is case-insensitive on word boundaries, over each entry's listed inflections and
multi-word phrases (any run of spaces, a hyphen or none between words). Text inside double
quotes, and any of the client's own terms, are the client's words and are never flagged.
"""

import json
import re
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

LEXICON_FILE = Path(__file__).with_name("lexicon.json")
QUOTED = re.compile(r'"[^"\n]{1,2000}"|\u201c[^\u201d\n]{1,2000}\u201d')


@dataclass(frozen=True)
class Entry:
    term: str
    forms: tuple[str, ...]
    suggestion: str
    reason: str


@dataclass(frozen=True)
class Finding:
    start: int
    end: int
    term: str
    suggestion: str
    reason: str
    text: str

    @property
    def replacement(self) -> str | None:
        """A word that can stand in directly, when the suggestion is one; else None."""
        first = re.split(r"[;,]", self.suggestion)[0].strip()
        if len(first.split()) > 3 or first.startswith(("describe", "the client", "name ", "only")):
            return None
        return first.strip('"')

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "replacement": self.replacement}


def _normal(text: str) -> str:
    return re.sub(r"[\s\-]+", " ", text.strip().lower())


def _pattern(form: str) -> str:
    words = [re.escape(w) for w in re.split(r"[\s\-]+", form.strip()) if w]
    return r"[\s\-]*".join(words)


class Lexicon:
    def __init__(self, entries: list[Entry]) -> None:
        self.by_form: dict[str, Entry] = {}
        for entry in entries:
            for form in entry.forms or (entry.term,):
                self.by_form.setdefault(_normal(form), entry)
        # Longest first, so "prostituted women" wins over "prostituted".
        alternatives = sorted(self.by_form, key=len, reverse=True)
        self.regex = (
            re.compile(
                r"(?<![\w-])(?:" + "|".join(_pattern(f) for f in alternatives) + r")(?![\w-])",
                re.IGNORECASE,
            )
            if alternatives
            else None
        )
        self.entries = entries

    def check(self, text: str, client_terms: list[str] | tuple[str, ...] = ()) -> list[Finding]:
        if self.regex is None or not text:
            return []
        own = [(m.start(), m.end()) for m in QUOTED.finditer(text)]
        for term in client_terms:
            if term.strip():
                own += [
                    (m.start(), m.end()) for m in re.finditer(_pattern(term), text, re.IGNORECASE)
                ]
        findings = []
        for match in self.regex.finditer(text):
            if any(start <= match.start() and match.end() <= end for start, end in own):
                continue
            entry = self.by_form[_normal(match.group())]
            findings.append(
                Finding(
                    match.start(),
                    match.end(),
                    entry.term,
                    entry.suggestion,
                    entry.reason,
                    match.group(),
                )
            )
        return findings


@cache
def builtin_entries() -> tuple[Entry, ...]:
    data = json.loads(LEXICON_FILE.read_text())
    return tuple(
        Entry(e["term"], tuple(e["forms"]), e["suggestion"], e["reason"]) for e in data["entries"]
    )


@cache
def builtin_lexicon() -> Lexicon:
    return Lexicon(list(builtin_entries()))
