"""The language check (Guideline 7): judgemental terms in the clinician's words, with suggestions.

It judges the clinician's wording, not third parties' or the client's. A lexicon form is matched
on word tokens (case-insensitive; words may be joined by spaces or a hyphen), then kept only when
its context says it is the clinician's label:

- the client's words are exempt: anything in quotes of any style (straight or curly, single or
  double, guillemets, low-high), the client's own terms (their term for their work, goals), and
  a label the client gives themselves as the clinician reports it ("she calls herself a
  hooker", "identifies as", "in her words");
- proper names are exempt: a capitalised lexicon word inside a sentence or beside another
  capitalised word ("the John Howard Society", "Victim Services", "Trafficking Victims
  Protection Act", "Elton John");
- credibility verbs (refuse, claim, insist, admit, allege; deny when set against a doubt) are
  flagged only when their subject is the client ("she", "he", "they", "client", "the client",
  "pt", "patient", "the couple", a name opening its clause: "Maria insists") or the clause has no
  other subject ("Refuses meds"); never for third parties ("the landlord refused", "her clients
  refuse condoms", "her sister Ana refused") or the passive ("she was refused care");
- senses listed per entry are exempt ("rescue inhaler", "relapse of depressive symptoms",
  "lifestyle changes", a rugby "hooker", "admitted to hospital");
- "trafficked", "sexually exploited", "victim" and "sex slave" are flagged as blanket labels, and
  exempt in a sentence that gives the client's own account (she reports, says, told me, describes…)
  or names the force, fraud or coercion itself (forced, threatened, took her passport, a debt…),
  unless the label is itself the subject of that account ("Victim reports nightmares").

A finding carries `replacement` only where the swap keeps the meaning (an explicit, per-form
replacement in the lexicon, never before a word that would break the grammar); otherwise None,
and the suggestion asks for a rewrite with the reason.
"""

import json
import re
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

LEXICON_FILE = Path(__file__).with_name("lexicon.json")

# Quoted speech in any style. A straight single quote opens only after a non-word character and
# closes only before one, so apostrophes ("client's", "I'm") are not taken for quotes.
QUOTED = re.compile(
    r'"[^"\n]{1,2000}"'
    r"|\u201c[^\u201d\n]{1,2000}\u201d"
    r"|\u201e[^\u201c\u201d\n]{1,2000}[\u201c\u201d]"
    r"|\u00ab[^\u00bb\n]{1,2000}\u00bb"
    r"|\u2039[^\u203a\n]{1,2000}\u203a"
    r"|(?<![\w\u2019])\u2018(?:[^\u2018\u2019\n]|\u2019(?=\w)){1,400}?\u2019(?!\w)"
    r"|(?<![\w'])'(?:[^'\n]|'(?=\w)){1,400}?'(?!\w)"
)
TOKEN = re.compile(r"\w+(?:[\u2019'&]\w+)*")
JOIN = re.compile(r"[ \t\-\u2010\u2011]+|")  # what may separate the words of one form
HYPHEN = re.compile(r"[\-\u2010\u2011]")
CLAUSE_BREAK = re.compile(r"[,;:()\u2013\u2014\"\u201c\u201d]|\s-\s")
SENTENCE_BREAK = re.compile(r"[.!?]\s|\n|[.!?]$")
ABBREVIATIONS = {"dr", "mr", "mrs", "ms", "mx", "st", "prof", "no", "vs", "etc", "e.g", "i.e"}

# Who the subject of a credibility verb may be for the finding to be about the client.
CLIENT_SUBJECTS = {"she", "he", "they", "client", "pt", "patient", "couple"}
# Capitalised subjects that are people or bodies other than the client ("Police insisted").
THIRD_PARTY_NOUNS = {
    "police", "officer", "officers", "landlord", "landlady", "staff", "team", "council", "court",
    "judge", "doctor", "gp", "nurse", "hospital", "agency", "manager", "boss", "partner",
    "husband", "wife", "boyfriend", "girlfriend", "mother", "father", "mum", "mom", "dad",
    "sister", "brother", "family", "bank", "school", "employer", "shelter", "pharmacy",
    "insurer", "immigration", "housing", "probation", "social", "services", "security", "he's",
    "she's", "everyone", "nobody", "someone", "somebody", "i", "we", "you", "it", "this", "that",
    "there", "here", "what", "when", "if", "as", "because", "since", "after", "before", "today",
    "yesterday", "then", "now", "plan", "goal", "step", "note", "notes", "review", "banks",
    "doctors", "nurses", "landlords", "hospitals", "clinics", "gps", "pharmacies", "agencies",
    "shelters", "employers", "managers", "courts", "judges", "schools", "councils", "insurers",
    "hotels", "clients", "customers", "partners", "parents", "friends", "neighbours",
    "neighbors", "workers", "providers", "others", "people", "men", "women", "some",
    "many", "most", "both", "all", "several", "few", "cops", "guards", "agents", "authorities",
}  # fmt: skip
# An account verb right after a label makes the label its subject ("Victim reports nightmares"):
# the clinician's name for the client, not the client's own account.
ACCOUNT_VERB = re.compile(
    r"(?:reports?|reported|says?|said|states?|stated|describes?|described|tells?|told"
    r"|explains?|explained|discloses?|disclosed|recalls?|recalled|feels?|felt)"
)
# "her client", "a client" are the client's own clients (third parties), not our client.
THIRD_PARTY_DETERMINERS = {
    "her", "his", "their", "a", "an", "one", "another", "any", "each", "every", "some", "new",
    "regular", "male", "female", "older", "younger", "young", "other", "no", "pt's", "client's",
    "patient's", "s", "its",
}  # fmt: skip
ADVERBS = {
    "still", "also", "again", "repeatedly", "always", "often", "sometimes", "now", "then", "just",
    "consistently", "persistently", "eventually", "finally", "initially", "later", "reportedly",
    "apparently", "never", "not", "flatly", "openly", "continually", "constantly", "usually",
    "once", "twice", "previously", "already", "even", "only", "categorically", "strongly",
    "adamantly", "vehemently", "allegedly", "first", "at", "all", "today", "yesterday", "totally",
    "completely", "really", "clearly", "simply", "herself", "himself", "themselves",
}  # fmt: skip
AUXILIARIES = {
    "has", "have", "had", "will", "would", "may", "might", "can", "could", "did", "does", "do",
    "to", "keeps", "kept", "keep", "continues", "continued", "continue", "seems", "seemed",
    "appears", "appeared", "tends", "tended", "started", "starts", "began", "begins", "is", "are",
    "was", "were", "been", "being", "be", "isn't", "wasn't", "doesn't", "didn't", "won't",
    "hasn't", "haven't", "shall", "should", "must", "got", "gets", "get",
}  # fmt: skip
PASSIVE_MARKERS = {"is", "are", "was", "were", "been", "being", "be", "got", "gets", "get"}
RELATIVES = {"who", "that", "which"}
ABILITY = {"can", "could", "may", "able", "free", "allowed", "entitled", "right"}
COORDINATORS = {"and", "but", "or", "then", "so", "yet"}
# Verbs that open a note sentence whose subject, left out, is the client.
NOTE_VERBS = {
    "came", "arrived", "attended", "presented", "presents", "reports", "reported", "said", "says",
    "was", "is", "has", "had", "seemed", "seems", "appeared", "appears", "left", "missed",
    "called", "agreed", "wants", "wanted", "states", "stated", "became", "remains", "remained",
    "continues", "continued", "engaged", "spoke", "talked", "discussed", "did", "does",
}  # fmt: skip
NAME_CONNECTORS = {"of", "for", "and", "the", "on", "in", "&", "de", "du"}
# The client labelling themselves, reported by the clinician: the label is the client's word.
SELF_LABEL = re.compile(
    r"\b(?:call(?:s|ed|ing)? (?:herself|himself|themselves|themself|it|her work|his work"
    r"|their work|this|that)|describ(?:es|ed|ing) (?:herself|himself|themselves|themself|it"
    r"|her work|his work|their work) as|identif(?:ies|ied|ying) as|refers? to (?:herself|himself"
    r"|themselves|themself|it|her work|his work|their work) as|in (?:her|his|their) (?:own )?words"
    r"|(?:her|his|their) (?:own )?(?:word|term|phrase|name) (?:is|was|for)|uses? the (?:word|term"
    r"|phrase)|prefers? the (?:word|term|phrase)|self-describ\w*|self-identif\w*)\b"
)
FUNCTION_WORDS = {"a", "an", "the", "her", "his", "their", "this", "that", "in", "on", "of", "to"}

# A sentence that gives the client's own account, or names force, fraud or coercion itself.
ACCOUNT = re.compile(
    r"\b(?:reports?|reported|reporting|says?|said|tells?|told|describes?|described|describing"
    r"|explain(?:s|ed)?|relates?|related|recounts?|recounted|recalls?|recalled|disclosed?"
    r"|discloses|states?|stated|account|in (?:her|his|their) (?:own )?words|according to"
    r" (?:her|him|them|the client|the patient|pt)|feels?|felt|remembers?)\b"
    r"|\b(?:forc(?:ed|es|ing|ibl\w*)|force (?:her|him|them|to)|by force|threat\w*|coerc\w*"
    r"|passports?|documents|debts?|owed?|lied|false promises?"
    r"|promised|locked|confiscat\w*|withh[eo]ld\w*|wages|against (?:her|his|their) will"
    r"|could ?n[o'\u2019]t leave|beat|beaten|recruit\w*|deceiv\w*|tricked)\b"
    # A named perpetrator: "exploited by her stepfather", "trafficked by a gang".
    r"|\bby (?:her|his|their|a|an|the|some) (?:\w+ )?(?:partner|boyfriend|girlfriend|husband|wife"
    r"|ex|stepfather|stepmother|father|mother|uncle|aunt|cousin|brother|sister|employer|boss"
    r"|manager|landlord|man|men|woman|women|gang|family|relative|friend|neighbour|neighbor"
    r"|recruiter|trafficker|traffickers|agent|smuggler|smugglers)\b"
)
# Right after a word: the client's own naming ("her pimp, as she calls him").
SELF_LABEL_AFTER = re.compile(
    r"[\s,(\-\u2013\u2014]{0,3}(?:as|what) (?:she|he|they) (?:calls?|called|puts? it|says?"
    r"|describes?|named?)\b|[\s,(\-\u2013\u2014]{0,3}(?:in )?(?:her|his|their) (?:own )?"
    r"(?:word|words|term|phrase)\b"
)


@dataclass(frozen=True)
class Entry:
    term: str
    forms: tuple[str, ...]
    suggestion: str
    reason: str
    source: str = ""
    # Context rules (all optional): see the module docstring and lexicon.json's "rules".
    subject: bool = False
    account: bool = False
    name_like: bool = False
    unless_after: tuple[str, ...] = ()
    unless_before: tuple[str, ...] = ()
    unless_sentence: str = ""
    only_sentence: str = ""
    replacements: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    no_replacement_before: tuple[str, ...] = ()
    after: tuple[tuple[str, ...], ...] = field(init=False, default=(), repr=False)
    before: tuple[tuple[str, ...], ...] = field(init=False, default=(), repr=False)

    def __post_init__(self) -> None:
        # Normalised once: the check runs on every pause in typing.
        object.__setattr__(self, "after", _phrases(self.unless_after))
        object.__setattr__(self, "before", tuple(p[::-1] for p in _phrases(self.unless_before)))


@dataclass(frozen=True)
class Finding:
    start: int
    end: int
    term: str
    suggestion: str
    reason: str
    text: str
    replacement: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _normal(text: str) -> str:
    return " ".join(t.lower() for t in TOKEN.findall(text.replace("\u2019", "'")))


def _pattern(form: str) -> str:
    words = [re.escape(w) for w in re.split(r"[\s\-]+", form.strip()) if w]
    return r"[\s\-]*".join(words)


def _titlecase(word: str) -> bool:
    return word[:1].isupper() and not word.isupper()


def _cased(replacement: str, original: str) -> str:
    if original.isupper() and len(original) > 1:
        return replacement.upper()
    if original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def _phrases(words: list[str] | tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(_normal(w).split()) for w in words if _normal(w))


class _Text:
    """A text split into word tokens, sentences and the spans that are the client's words."""

    def __init__(self, text: str, client_terms: list[str] | tuple[str, ...]) -> None:
        self.text = text
        matches = list(TOKEN.finditer(text))
        self.starts = [m.start() for m in matches]
        self.ends = [m.end() for m in matches]
        self.words = [m.group() for m in matches]
        self.lower = [w.lower().replace("\u2019", "'") for w in self.words]
        self.sentence_of: list[int] = []  # index of the first token of each token's sentence
        self.sentence_end: dict[int, int] = {}  # first token of a sentence -> its last token
        breaks = [m.start() for m in SENTENCE_BREAK.finditer(text)]
        first, b = 0, 0
        for i in range(len(matches)):
            # A break character between the previous token and this one may end a sentence.
            while b < len(breaks) and breaks[b] < self.starts[i]:
                if i and breaks[b] >= self.ends[i - 1] and self._sentence_break(i):
                    self.sentence_end[first] = i - 1
                    first = i
                b += 1
            self.sentence_of.append(first)
        if matches:
            self.sentence_end[first] = len(matches) - 1
        self._sentences: dict[int, str] = {}
        self.quoted = [(m.start(), m.end()) for m in QUOTED.finditer(text)]
        self.terms = [
            (m.start(), m.end())
            for term in client_terms
            if term.strip()
            for m in re.finditer(r"(?<!\w)" + _pattern(term) + r"(?!\w)", text, re.IGNORECASE)
        ]

    def gap(self, i: int) -> str:
        """The characters between token i-1 and token i."""
        return self.text[self.ends[i - 1] : self.starts[i]] if i else self.text[: self.starts[0]]

    def _sentence_break(self, i: int) -> bool:
        gap = self.gap(i)
        if not SENTENCE_BREAK.search(gap + " "):
            return False
        previous = self.lower[i - 1]
        # "Dr. Johns", "C. J. Walker": an abbreviation or an initial is not a sentence end.
        return not (gap.startswith(".") and (previous in ABBREVIATIONS or len(previous) == 1))

    def joined(self, i: int) -> bool:
        """Token i is glued to the previous token by a hyphen ("non-alcoholic")."""
        return bool(i) and HYPHEN.fullmatch(self.gap(i)) is not None

    def clause_break(self, i: int) -> bool:
        return self.sentence_of[i] == i or bool(CLAUSE_BREAK.search(self.gap(i)))

    def sentence(self, i: int) -> str:
        first = self.sentence_of[i]
        if first not in self._sentences:
            end = self.ends[self.sentence_end[first]]
            self._sentences[first] = self.text[self.starts[first] : end].lower()
        return self._sentences[first]

    def is_own(self, start: int, end: int) -> bool:
        """Inside quotes, or sharing words with one of the client's terms ("back in the life"
        when the client calls their work "the life")."""
        return any(s <= start and end <= e for s, e in self.quoted) or any(
            s < end and start < e for s, e in self.terms
        )


class Lexicon:
    def __init__(self, entries: list[Entry]) -> None:
        # First word of a form -> [(form words, entry)], longest first.
        self.index: dict[str, list[tuple[tuple[str, ...], Entry]]] = {}
        seen: set[tuple[str, ...]] = set()
        for entry in entries:
            for form in entry.forms or (entry.term,):
                words = tuple(_normal(form).split())
                if not words or words in seen:
                    continue
                seen.add(words)
                self.index.setdefault(words[0], []).append((words, entry))
        for forms in self.index.values():
            forms.sort(key=lambda item: len(item[0]), reverse=True)
        self.entries = entries

    def check(self, text: str, client_terms: list[str] | tuple[str, ...] = ()) -> list[Finding]:
        if not text or not self.index:
            return []
        doc = _Text(text, client_terms)
        findings: list[Finding] = []
        i, n = 0, len(doc.words)
        while i < n:
            found = None
            for words, entry in self.index.get(doc.lower[i], ()):
                k = len(words)
                if (
                    i + k <= n
                    and tuple(doc.lower[i : i + k]) == words
                    and all(JOIN.fullmatch(doc.gap(j)) for j in range(i + 1, i + k))
                ):
                    found = (words, entry, k)
                    break
            if found is None:
                i += 1
                continue
            words, entry, k = found
            finding = self._judge(doc, i, k, words, entry)
            if finding:
                findings.append(finding)
            i += k
        return findings

    def _judge(
        self, doc: _Text, i: int, k: int, words: tuple[str, ...], entry: Entry
    ) -> Finding | None:
        start, end = doc.starts[i], doc.ends[i + k - 1]
        last = i + k - 1
        # Part of a hyphenated word that is not this form ("non-alcoholic", "victim-blaming").
        if doc.joined(i) or (last + 1 < len(doc.words) and doc.joined(last + 1)):
            return None
        if doc.is_own(start, end):
            return None
        if self._proper_name(doc, i, last, entry):
            return None
        if self._self_label(doc, i) or SELF_LABEL_AFTER.match(doc.text, end, end + 40):
            return None
        after = doc.lower[last + 1 : last + 6]
        before = doc.lower[max(0, i - 4) : i][::-1]
        if any(tuple(after[: len(p)]) == p for p in entry.after):
            return None
        if any(tuple(before[: len(p)]) == p for p in entry.before):
            return None
        if entry.unless_sentence or entry.only_sentence or entry.account:
            sentence = doc.sentence(i)
            if entry.unless_sentence and re.search(entry.unless_sentence, sentence):
                return None
            if entry.only_sentence and not re.search(entry.only_sentence, sentence):
                return None
            if (
                entry.account
                and ACCOUNT.search(sentence)
                and not (after and ACCOUNT_VERB.fullmatch(after[0]))
            ):
                return None
        if entry.subject and not self._clients_own_act(doc, i, words):
            return None
        text = doc.text[start:end]
        return Finding(
            start,
            end,
            entry.term,
            entry.suggestion,
            entry.reason,
            text,
            self._replacement(entry, words, text, after),
        )

    @staticmethod
    def _proper_name(doc: _Text, i: int, last: int, entry: Entry) -> bool:
        """A capitalised word inside a sentence, or beside another capitalised word, names
        someone or something ("Johns Hopkins", "Victim Services", "the John Howard Society")."""
        titled = [
            j
            for j in range(i, last + 1)
            if _titlecase(doc.words[j]) and doc.lower[j] not in FUNCTION_WORDS
        ]
        if not titled:
            return False
        if entry.name_like:
            return True
        # (A capital after a note's heading starts its sentence: "A/P: Prostitution-related".)
        if any(doc.sentence_of[j] != j and ":" not in doc.gap(j) for j in titled):
            return True
        if entry.subject or doc.lower[last].endswith(("ing", "ed")):
            return False  # a verb opening a sentence names nobody: "Refuses PrEP", "Rescuing Jo"
        # The next capitalised word, over connectors: "Prostitutes of New York", "Victim Services".
        neighbour = last + 1
        while (
            neighbour < len(doc.words)
            and doc.lower[neighbour] in NAME_CONNECTORS
            and not doc.clause_break(neighbour)
        ):
            neighbour += 1
        return (
            neighbour < len(doc.words)
            and not doc.clause_break(neighbour)
            and _titlecase(doc.words[neighbour])
        )

    @staticmethod
    def _self_label(doc: _Text, i: int) -> bool:
        """The label follows the client's own naming closely, in the same clause: "she calls
        herself a hooker" (not "he calls it work, but it is degrading")."""
        first = max(doc.sentence_of[i], i - 8)
        for j in range(i, first, -1):
            if doc.clause_break(j):
                first = j
                break
        before = doc.text[doc.starts[first] : doc.starts[i]].lower()
        cues = list(SELF_LABEL.finditer(before))
        return bool(cues) and len(before[cues[-1].end() :].split()) <= 3

    @staticmethod
    def _clients_own_act(doc: _Text, i: int, words: tuple[str, ...]) -> bool:
        """Whether a credibility verb's subject is the client, or the clause has none."""
        verb = words[0]
        j = i - 1
        # Skip adverbs and auxiliaries back to the subject; "was refused" is done to the client.
        while j >= 0 and not doc.clause_break(j + 1):
            word = doc.lower[j]
            if word in ADVERBS:
                j -= 1
                continue
            if word in PASSIVE_MARKERS and verb.endswith("ed"):
                return False
            if word in ABILITY:
                return False  # "she can refuse any booking": a right, not a judgement
            if word in AUXILIARIES:
                j -= 1
                continue
            break
        if j >= 0 and ":" in doc.gap(j + 1):
            return True  # a note's heading, then the verb: "Flu vaccine: refused."
        if j < 0 or doc.clause_break(j + 1) or doc.lower[j] in COORDINATORS:
            # No subject in this clause: the subject of the clause before, or none at all.
            if j < 0 or (doc.sentence_of[j + 1] == j + 1 and doc.lower[j] not in COORDINATORS):
                return True
            return _subject_is_client(doc, doc.sentence_of[j], j + 1)
        return _word_is_client(doc, j)

    @staticmethod
    def _replacement(
        entry: Entry, words: tuple[str, ...], text: str, after: list[str]
    ) -> str | None:
        replacement = entry.replacements.get(" ".join(words))
        if not replacement:
            return None
        if after and after[0] in entry.no_replacement_before:
            return None
        return _cased(replacement, text)


def _word_is_client(doc: _Text, j: int) -> bool:
    word = doc.lower[j]
    previous = doc.lower[j - 1] if j and not doc.clause_break(j) else ""
    if word in RELATIVES:
        # "the patient, who claims ..." / "her ex, who claims ...": the antecedent decides.
        k = j - 1
        return k >= 0 and _word_is_client(doc, k)
    if word in ("client", "patient", "pt", "couple"):
        return previous not in THIRD_PARTY_DETERMINERS
    if word in CLIENT_SUBJECTS:
        return True
    # A name opening its clause ("Maria insists ..."): in the client's own plan, the client.
    # A name after a noun or a determiner is someone else's ("her sister Ana refused").
    return (
        _titlecase(doc.words[j])
        and word not in THIRD_PARTY_NOUNS
        and (not previous or previous in COORDINATORS)
    )


def _subject_is_client(doc: _Text, first: int, stop: int) -> bool:
    """The subject of a sentence's first clause (tokens first..stop-1), e.g. "She came in late
    and refused" -> she; "The landlord came and refused" -> landlord."""
    for j in range(first, stop):
        word = doc.lower[j]
        if word in CLIENT_SUBJECTS:
            return _word_is_client(doc, j)
        if word in ("the", "a", "an", "her", "his", "their", "this", "that") or word in ADVERBS:
            continue
        if j == first and word in NOTE_VERBS:
            return True  # "Came in late and refused ...": a note with the client as subject
        if word in COORDINATORS:
            break
        return False
    return True


def _entry(data: dict[str, Any]) -> Entry:
    forms = list(data["forms"])
    if data.get("ex"):
        forms += [f"{prefix} {f}" for f in data["forms"] for prefix in ("ex", "former")]
    return Entry(
        term=data["term"],
        forms=tuple(forms),
        suggestion=data["suggestion"],
        reason=data["reason"],
        source=data.get("source", ""),
        subject=data.get("subject", False),
        account=data.get("account", False),
        name_like=data.get("name_like", False),
        unless_after=tuple(data.get("unless_after", ())),
        unless_before=tuple(data.get("unless_before", ())),
        unless_sentence=data.get("unless_sentence", ""),
        only_sentence=data.get("only_sentence", ""),
        replacements={_normal(k): v for k, v in data.get("replacements", {}).items()},
        no_replacement_before=tuple(data.get("no_replacement_before", ())),
    )


@cache
def builtin_entries() -> tuple[Entry, ...]:
    data = json.loads(LEXICON_FILE.read_text())
    return tuple(_entry(e) for e in data["entries"])


@cache
def builtin_lexicon() -> Lexicon:
    return Lexicon(list(builtin_entries()))
