"""The lexicon and checker: every entry found, neutral text left alone, client words exempt."""

import json
import re
from pathlib import Path

import pytest

from forms import STEPS
from language.checker import builtin_entries, builtin_lexicon

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).with_name("data")
ENTRIES = builtin_entries()
FORMS = [(entry, form) for entry in ENTRIES for form in entry.forms]


def test_the_lexicon_has_at_least_40_entries_each_with_suggestion_reason_and_source() -> None:
    assert len(ENTRIES) >= 40
    assert len(FORMS) >= 400  # inflections, hyphenated, "ex-" and multi-word variants
    for entry in ENTRIES:
        assert entry.forms, entry.term
        assert entry.suggestion, entry.term
        assert entry.reason, entry.term
        assert entry.source, entry.term


def words(text: str) -> list[str]:
    return re.findall(r"[\w']+", text.lower())


def example(entry, form: str) -> str:
    """A sentence in which the form has its judgemental sense: the first of these whose
    sentence gives the sense an entry needs (`only_sentence`)."""
    word = form.upper()
    if entry.subject:
        shapes = [f"Client {word} again.", f"Client {word} it again, but staff saw otherwise."]
    else:
        shapes = [
            f"At the session today, {word} came up again.",
            f"Drug screen reviewed; {word} came up again.",
            f"She sees regulars at a hotel; {word} came up again.",
            f"About her sex work: {word} came up again.",
        ]
    needed = entry.only_sentence
    return next((s for s in shapes if not needed or re.search(needed, s.lower())), shapes[-1])


@pytest.mark.parametrize(("entry", "form"), FORMS, ids=[f for _, f in FORMS])
def test_every_form_is_found_in_a_sentence_with_its_suggestion(entry, form) -> None:
    text = example(entry, form)
    findings = builtin_lexicon().check(text)
    assert [(f.term, f.suggestion, f.reason) for f in findings] == [
        (entry.term, entry.suggestion, entry.reason)
    ]
    finding = findings[0]
    assert words(text[finding.start : finding.end]) == words(form)


NEUTRAL = [
    "Client reports sleeping four hours a night and would like to feel rested.",
    "She declines medication for now and prefers to try a routine first.",
    "They were admitted to hospital last year after a fall.",
    "We discussed how to claim housing benefit and who can help with the forms.",
    "John, her brother, came to the first session as a support person.",
    "The client was refused care at a clinic and felt judged by the receptionist.",
    "He says work is going well and wants support with stress from the commute.",
    "Plan: weekly sessions, peer support group, and a review of the budget in March.",
    "Client uses the word escorting for their work and finds it rewarding.",
    "Discussed ways to rest after late shifts; she will try a wind-down routine.",
    "They would like help getting a new ID card and opening a bank account.",
    "Safety plan written in the client's own words and kept by the client.",
    "Partner shared worries about what family members think; both want to talk more openly.",
    "No changes to housing. Next review in twelve weeks.",
    "She cleaned her flat and felt proud of it; the bathroom was dirty before.",
]


@pytest.mark.parametrize("sentence", NEUTRAL)
def test_neutral_clinical_sentences_raise_nothing(sentence: str) -> None:
    assert builtin_lexicon().check(sentence) == []


def test_inflections_and_multiword_spacing_match() -> None:
    text = "Notes say she refused to attend; he was  drug-seeking and drug seeking."
    terms = [f.term for f in builtin_lexicon().check(text)]
    assert terms == ["refuses", "drug-seeking", "drug-seeking"]


def test_longest_phrase_wins() -> None:
    [finding] = builtin_lexicon().check("support for prostituted women")
    assert finding.text == "prostituted women"


def test_the_clients_own_terms_are_exempt() -> None:
    text = "Client talked about working girl friends and a hooker she knows; she wants less stress."
    assert builtin_lexicon().check(text, ["working girl", "Hooker"]) == []
    assert [f.term for f in builtin_lexicon().check(text, ["working girl"])] == ["hooker"]
    # A form that shares words with the client's term is the client's phrase too.
    assert builtin_lexicon().check("She went back in the life.", ["the life"]) == []
    assert [f.text for f in builtin_lexicon().check("She went back in the life.")] == [
        "in the life"
    ]
    # A term matches whole words only: the client's "ho" does not exempt "hooker".
    assert [f.text for f in builtin_lexicon().check("He is a hooker.", ["ho"])] == ["hooker"]


def test_quoted_words_are_the_clients_and_exempt() -> None:
    text = 'She said "I was a victim of the system". Today I would call her a victim.'
    findings = builtin_lexicon().check(text)
    assert len(findings) == 1
    assert findings[0].start == text.rindex("victim")


def product_texts() -> list[tuple[str, str]]:
    texts = []
    for step in STEPS:
        texts += [
            (f"forms:{step.name}", t)
            for t in (step.title, step.intro, step.general_title or "", step.general_intro or "")
        ]
        for field in step.fields:
            texts += [
                (f"forms:{step.name}.{field.name}", t)
                for t in (
                    field.label,
                    field.general_label or "",
                    field.why,
                    field.who_sees,
                    field.help,
                    *(c.label for c in field.choices),
                )
            ]
    for folder in ("plan_templates", "backend/templates"):
        for path in (REPO / folder).rglob("*.html"):
            # Template text without tags: what a reader sees.
            texts.append(
                (str(path.relative_to(REPO)), re.sub(r"\{[%{#].*?[%}#]\}", " ", path.read_text()))
            )
    texts += [
        ("documents.context", line)
        for line in (REPO / "backend/documents/context.py").read_text().splitlines()
        if line.strip().startswith('"')
    ]
    return texts


def test_no_label_help_text_or_template_uses_a_lexicon_term() -> None:
    texts = product_texts()
    wheres = {where.split(":")[0] for where, _ in texts}
    assert len(texts) > 200  # the scan really reads the forms and every template
    assert {"forms", "plan_templates/base.html", "backend/templates/intake/step.html"} <= wheres
    flagged = [(where, f.text) for where, text in texts for f in builtin_lexicon().check(text)]
    assert flagged == []


# Issue 15's examples: what the old checker missed, wrongly flagged, or "fixed" harmfully.
MISSED_BEFORE = [
    ("She has been prostituting herself since the move.", "prostituting herself"),
    ("Both of them sold their bodies for rent.", "sold their bodies"),
    ("Client is an ex-prostitute.", "ex-prostitute"),
    ("She behaved promiscuously, per the ward notes.", "promiscuously"),
    ("She once worked in a whorehouse.", "whorehouse"),
    ("Her lifestyle worries the family.", "lifestyle"),
    ("Client admitted she was seeing clients.", "admitted"),
    ("She is selling herself again.", "selling herself"),
    ("She meets punters in hotels.", "punters"),
    ("He was a rent boy.", "rent boy"),
    ("She went back on the game.", "back on the game"),
    ("She has been in the life for years.", "in the life"),
    ("Client is in denial.", "in denial"),
    ("Client lacks insight.", "lacks insight"),
    ("Family say she has loose morals.", "loose morals"),
    ("Escorting is degrading work.", "degrading work"),
    ("Her madam takes half.", "madam"),
    ("Client is being sexually exploited.", "sexually exploited"),
    ("Client claims she is fine.", "claims"),
    ("Refuses medication.", "Refuses"),
    ("She is non-compliant.", "non-compliant"),
    ("Presented as drug-seeking.", "drug-seeking"),
]


@pytest.mark.parametrize(("text", "flagged"), MISSED_BEFORE)
def test_inflections_variants_and_new_terms_are_found(text: str, flagged: str) -> None:
    assert [f.text for f in builtin_lexicon().check(text)] == [flagged]


WRONGLY_FLAGGED_BEFORE = [
    "She was referred by the John Howard Society.",
    "Her cousin works at Johns Hopkins.",
    "She listens to Elton John to fall asleep.",
    "She carries a rescue inhaler.",
    "Her dog is a rescue.",
    "The landlord refused to return her deposit.",
    "Banks refuse to open an account for her.",
    "Her manager claims she was late, which she disputes.",
    "She has an appointment with Victim Services.",
    "No relapse of depressive symptoms since March.",
    "We read the Trafficking Victims Protection Act together.",
    "She says she was trafficked by a man who took her passport and threatened her mother.",
    "She calls herself a 'working girl'.",
    "She calls herself a \u2018working girl\u2019.",
    'She calls herself a "working girl".',
    "She calls herself a \u201cworking girl\u201d.",
    "She calls herself \u00abune pute\u00bb and a \u00abworking girl\u00bb.",
    "She was admitted to hospital in May.",
    "Her son plays hooker for the school rugby team.",
    "Reviewed the lifestyle changes her GP suggested.",
    "Her client sometimes refuses to use condoms.",
    "Her clients refuse condoms, so we practised what to say.",
    "She was refused care at the pharmacy.",
    "She denies suicidal ideation.",
]


@pytest.mark.parametrize("text", WRONGLY_FLAGGED_BEFORE)
def test_third_parties_names_other_senses_and_the_clients_words_are_not_findings(
    text: str,
) -> None:
    assert builtin_lexicon().check(text) == []


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("Client was trafficked.", "trafficked"),
        ("Trafficked women like her need protection.", "Trafficked women"),
        ("He is a victim of the sex trade.", "victim"),
    ],
)
def test_trafficked_and_victim_as_blanket_labels_are_found(text: str, flagged: str) -> None:
    assert [f.text for f in builtin_lexicon().check(text)] == [flagged]


@pytest.mark.parametrize(
    ("text", "subject_is_client"),
    [
        ("She refused to discuss it.", True),
        ("The client refused to discuss it.", True),
        ("Pt refused bloods.", True),
        ("They keep refusing the referral.", True),
        ("Came in late and refused to talk.", True),
        ("She came in late and then refused to talk.", True),
        ("According to the patient, who claims she stopped, nothing changed.", True),
        ("Her ex, who claims she owes him money, calls daily.", False),
        ("The landlord came round and refused to fix the boiler.", False),
        ("A client refused to pay her.", False),
        ("The insurer insists on a report.", False),
        ("Her sister admitted she had read the diary.", False),
    ],
)
def test_credibility_verbs_are_findings_only_when_the_client_is_the_subject(
    text: str, subject_is_client: bool
) -> None:
    assert bool(builtin_lexicon().check(text)) is subject_is_client


@pytest.mark.parametrize(
    ("text", "replacement"),
    [
        ("Client refuses to engage.", "declines"),
        ("Refused bloods today.", "Declined"),
        ("Client claims that she is fine.", "says"),
        ("Client claims to be fine.", None),  # "reports to be fine" would not be English
        ("She insists on leaving early.", None),  # "says on leaving" would not be English
        ("She insisted she was fine.", "said"),
        ("She admits to using at weekends.", None),
        ("She used to work in a whorehouse.", "brothel"),
        ("She meets punters online.", "clients"),
        ("History of drug abuse.", "drug use"),
        ("She is a prostitute.", "sex worker"),
        ("She prostitutes herself.", None),
        ("She is a hooker.", None),  # a slur: rewrite, never a swap
        ("Client was trafficked.", None),
        ("She is a victim of the sex trade.", None),
        ("She has been in the life for years.", None),
        ("Her lifestyle worries the family.", None),
    ],
)
def test_one_click_replacement_only_where_the_swap_keeps_the_meaning(
    text: str, replacement: str | None
) -> None:
    [finding] = builtin_lexicon().check(text)
    assert finding.replacement == replacement
    assert finding.as_dict()["replacement"] == replacement


def test_a_replacement_never_touches_the_clients_quoted_words() -> None:
    text = 'She said "my johns are fine" and her johns pay well.'
    [finding] = builtin_lexicon().check(text)
    assert finding.start == text.rindex("her johns")
    fixed = text[: finding.start] + finding.replacement + text[finding.end :]
    assert fixed == 'She said "my johns are fine" and her clients pay well.'


def test_replacements_leave_no_finding_behind_on_the_labelled_sentences() -> None:
    """Every one-click replacement, applied, yields wording the check accepts."""
    rows = [json.loads(line) for line in (DATA / "tune.jsonl").read_text().splitlines()]
    swapped = 0
    for row in rows:
        for finding in builtin_lexicon().check(row["text"]):
            if finding.replacement is None:
                continue
            text = row["text"]
            fixed = text[: finding.start] + finding.replacement + text[finding.end :]
            after = [f for f in builtin_lexicon().check(fixed) if f.start == finding.start]
            assert after == [], (text, fixed)
            swapped += 1
    assert swapped >= 20


@pytest.mark.parametrize(
    "text",
    [
        "She calls herself a hooker and says it with pride.",
        "He identifies as a rent boy.",
        "In their words they were never a victim.",
        "Prostitutes of New York ran the workshop.",
        "We read the trafficking victims protection act summary.",
    ],
)
def test_self_labels_names_with_connectors_and_statutes_are_not_findings(text: str) -> None:
    assert builtin_lexicon().check(text) == []


def test_a_label_given_by_someone_else_is_still_a_finding() -> None:
    text = "Her family describe her as a whore."
    assert [f.text for f in builtin_lexicon().check(text)] == ["whore"]


def test_a_self_label_covers_only_the_words_right_after_it() -> None:
    text = "He calls it work, but it is degrading."
    assert [f.text for f in builtin_lexicon().check(text)] == ["degrading"]


@pytest.mark.parametrize(
    "text",
    [
        "She finds the work degrading at times.",
        "She feels the shelter rules are degrading.",
        "Her pimp, as she calls him, holds her money.",
        "Her madam (her word) books the rooms.",
        "She was sexually exploited by her stepfather as a child.",
    ],
)
def test_the_clients_own_view_and_a_named_perpetrator_are_not_findings(text: str) -> None:
    assert builtin_lexicon().check(text) == []


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("She feels ashamed of the degrading work she does.", "degrading work"),
        ("Women like her are sexually exploited by the industry.", "sexually exploited"),
    ],
)
def test_the_clinicians_own_judgement_beside_the_clients_feelings_is_a_finding(
    text: str, flagged: str
) -> None:
    assert [f.text for f in builtin_lexicon().check(text)] == [flagged]
