"""The lexicon and checker: every entry found, neutral text left alone, client words exempt."""

import re
from pathlib import Path

import pytest

from forms import STEPS
from language.checker import builtin_entries, builtin_lexicon

REPO = Path(__file__).resolve().parents[2]
ENTRIES = builtin_entries()
FORMS = [(entry, form) for entry in ENTRIES for form in entry.forms]


def test_the_lexicon_has_at_least_40_entries_each_with_suggestion_and_reason() -> None:
    assert len(ENTRIES) >= 40
    for entry in ENTRIES:
        assert entry.forms, entry.term
        assert entry.suggestion, entry.term
        assert entry.reason, entry.term


@pytest.mark.parametrize(("entry", "form"), FORMS, ids=[f for _, f in FORMS])
def test_every_form_is_found_in_a_sentence_with_its_suggestion(entry, form) -> None:
    text = f"At the session today, {form.upper()} came up again."
    findings = builtin_lexicon().check(text)
    assert [(f.term, f.suggestion, f.reason) for f in findings] == [
        (entry.term, entry.suggestion, entry.reason)
    ]
    finding = findings[0]
    assert text[finding.start : finding.end].lower() == form.lower()


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
    text = "Notes say she Refused to attend; he was  drug-seeking and drug seeking."
    terms = [f.term for f in builtin_lexicon().check(text)]
    assert terms == ["refuses", "drug-seeking", "drug-seeking"]


def test_longest_phrase_wins() -> None:
    [finding] = builtin_lexicon().check("support for prostituted women")
    assert finding.text == "prostituted women"


def test_the_clients_own_terms_are_exempt() -> None:
    text = "Client describes herself as a working girl and a hooker, and wants less stress."
    assert builtin_lexicon().check(text, ["working girl", "Hooker"]) == []
    assert [f.term for f in builtin_lexicon().check(text, ["working girl"])] == ["hooker"]


def test_quoted_words_are_the_clients_and_exempt() -> None:
    text = 'She said "I was a victim of the system" and the notes called her a victim.'
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
