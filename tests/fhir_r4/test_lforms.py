"""LHC-Forms (the NLM reference renderer, npm `lforms`) in a real Chromium, driven with the
service's Questionnaire: the same answers, given to LHC-Forms (one typed into the page), come back
as the same QuestionnaireResponse that the service exports, including the steps that enableWhen
switches off."""

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PERSONAS, completed_plan
from tests.factories import ClientFactory

pytestmark = [pytest.mark.django_db, pytest.mark.browser]
LFORMS = Path(__file__).parent / "node_modules" / "lforms" / "dist" / "lforms"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def lforms_page() -> Iterator[object]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (make browser-deps)")
    if not (LFORMS / "webcomponent" / "lhc-forms.js").exists():
        pytest.skip("lforms is not installed (make browser-deps: npm ci in tests/fhir_r4)")
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page()
            page.set_default_timeout(30_000)
            page.set_content('<html><body><div id="form"></div></body></html>')
            for script in (
                "webcomponent/assets/lib/zone.min.js",
                "webcomponent/lhc-forms.js",
                "fhir/lformsFHIRAll.min.js",
            ):
                page.add_script_tag(path=str(LFORMS / script))
            page.wait_for_function("() => window.LForms && LForms.Util && LForms.FHIR")
            yield page
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def answers_by_link(items: list[dict]) -> dict[str, list]:
    """{linkId: answers} over the whole tree, answers as codes, strings and booleans."""
    out: dict[str, list] = {}
    for item in items:
        values = []
        for answer in item.get("answer", []):
            if "valueCoding" in answer:
                values.append(answer["valueCoding"]["code"])
            elif "valueString" in answer:
                values.append(answer["valueString"])
            elif "valueBoolean" in answer:
                values.append(answer["valueBoolean"])
            out.update(answers_by_link(answer.get("item", [])))
        if values:
            out[item["linkId"]] = sorted(values, key=str)
        out.update(answers_by_link(item.get("item", [])))
    return out


def with_extra(response: dict, group: str, link_id: str, answer: dict) -> dict:
    """The response plus an answer in a group (added when the service has no such group)."""
    items = [dict(g) for g in response["item"]]
    target = next((g for g in items if g["linkId"] == group), None)
    if target is None:
        target = {"linkId": group, "item": []}
        items.append(target)
    target["item"] = [*target.get("item", []), {"linkId": link_id, "answer": [answer]}]
    return {**response, "item": items}


def without(response: dict, link_id: str) -> dict:
    items = []
    for group in response["item"]:
        kept = [i for i in group.get("item", []) if i["linkId"] != link_id]
        items.append({**group, "item": kept} if kept else {"linkId": group["linkId"]})
    return {**response, "item": items}


def coded(field: str, code: str) -> dict:
    return {"valueCoding": {"system": f"http://testserver/fhir/CodeSystem/{field}", "code": code}}


# A question each persona's answers switch off, and an answer offered there anyway.
SWITCHED_OFF = {
    # work is not a topic: the whole step
    "not_a_topic": ("work_context", "work_types", coded("work_types", "massage")),
    # continuing, not leaving: the whole step
    "continuing": ("exit_planning", "exit_stage", coded("exit_stage", "planning")),
    # "keep going as I am": never asked what they would change about how they work, though
    # the rest of its step is on (a question's own condition on an earlier page)
    "continuing/change_what": (
        "harm_reduction",
        "change_what",
        {"valueString": "Work from a shared flat"},
    ),
    "leaving": None,  # every individual step is on
}


@pytest.mark.parametrize("case", list(SWITCHED_OFF))
def test_lhc_forms_gives_the_same_response_for_the_same_answers(lforms_page, alice, case) -> None:
    persona = case.split("/")[0]
    kind, steps = PERSONAS[persona]
    steps = {**steps, "about": {**steps.get("about", {}), "preferred_name": "Sam R."}}
    client = ClientFactory(clinic=alice.clinic)
    client.care_team.add(alice.user)
    plan = completed_plan(alice, client, kind, steps)
    questionnaire = json.loads(alice.api.get(f"/fhir/Questionnaire/{kind}").content)
    service = json.loads(alice.api.get(f"/fhir/QuestionnaireResponse/{plan.intake_id}").content)

    # The same answers for LHC-Forms: the preferred name is typed into the page instead, and an
    # answer to a step the client's answers switch off is offered too (it must not come back).
    given = without(service, "preferred_name")
    off = SWITCHED_OFF[case]
    if off is not None:
        given = with_extra(given, *off)

    page = lforms_page
    page.evaluate(
        """async ([q, qr]) => {
            const form = document.getElementById('form');
            form.innerHTML = '';
            await LForms.Util.addFormToPage(q, form, {questionnaireResponse: qr});
        }""",
        [questionnaire, given],
    )
    name = page.locator('[id^="preferred_name/"]').first
    name.fill("Sam R.")
    name.press("Tab")
    rendered = page.evaluate(
        "() => LForms.Util.getFormFHIRData('QuestionnaireResponse', 'R4', "
        "document.getElementById('form'))"
    )
    theirs = answers_by_link(rendered.get("item", []))
    ours = answers_by_link(service["item"])
    assert ours["preferred_name"] == ["Sam R."]
    if off is not None:
        assert off[1] not in theirs  # switched off by enableWhen in LHC-Forms too
    assert theirs == ours
