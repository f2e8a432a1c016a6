"""The plan page in the browser's terms: edit with the client, agree, and ask for the PDF."""

import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.test import Client as Browser

from documents import services as document_services
from documents.models import PlanDocument
from intake.models import Reflection
from plans.models import PlanStep, TreatmentPlan
from plans.selectors import content_sha256, plan_representation
from plans.services import plan_update
from referrals.models import PlanReferral, ReferralAgency

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(persona_plan):
    return persona_plan("continuing")


def beacon(session_cookie: str) -> Browser:
    """What quick exit's sendBeacon sends with: the browser's session cookie, still there even
    when the sign-out has already ended the session."""
    sender = Browser()
    sender.cookies[settings.SESSION_COOKIE_NAME] = session_cookie
    return sender


def leave_a_draft(browser, plan, **edits: str):
    """Quick exit from the plan editor with these edits typed: the beacon's post."""
    left = beacon(browser.cookies[settings.SESSION_COOKIE_NAME].value)
    return left.post("/plans/away/save/", {**shown_form(browser, plan), **edits})


def signed_in(persona) -> Browser:
    browser = Browser()
    browser.force_login(persona.user)
    return browser


class _FormReader(HTMLParser):
    """What a browser would submit from the plan editor as it is shown (no <template> rows)."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}
        self.in_editor = self.in_template = False
        self.textarea: str | None = None
        self.select: str | None = None

    def handle_starttag(self, tag, attrs) -> None:
        a = dict(attrs)
        if tag == "form" and "data-plan-editor" in a:
            self.in_editor = True
        if tag == "template":
            self.in_template = True
        if not self.in_editor or self.in_template:
            return
        if tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a and a["name"] in self.data:  # several boxes, one name
                    previous = self.data[a["name"]]
                    values = previous if isinstance(previous, list) else [previous]
                    self.data[a["name"]] = [*values, a.get("value", "on")]
                elif "checked" in a:
                    self.data[a["name"]] = a.get("value", "on")
            else:
                self.data[a["name"]] = a.get("value") or ""
        elif tag == "textarea" and a.get("name"):
            self.textarea = a["name"]
            self.data[self.textarea] = ""
        elif tag == "select":
            self.select = a.get("name")
            self.data.setdefault(self.select, "")
        elif tag == "option" and self.select and "selected" in a:
            self.data[self.select] = a.get("value", "")

    def handle_endtag(self, tag) -> None:
        if tag == "template":
            self.in_template = False
        elif tag == "form":
            self.in_editor = False
        elif tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None

    def handle_data(self, data) -> None:
        if self.textarea and self.in_editor and not self.in_template:
            self.data[self.textarea] += data


def shown_form(browser, plan) -> dict[str, str]:
    return read_form(browser.get(f"/plans/{plan.pk}/"))


def read_form(page) -> dict[str, str]:
    reader = _FormReader()
    reader.feed(page.content.decode())
    # Django renders a newline after <textarea>; browsers drop it.
    return {
        k: v[1:] if isinstance(v, str) and v.startswith("\n") else v for k, v in reader.data.items()
    }


def save(browser, plan, form: dict[str, str], **edits: str):
    return browser.post(f"/plans/{plan.pk}/", {**form, **edits})


def two_editors(first_persona, second_persona, plan) -> tuple:
    """Two clinicians of the client's care team with the plan page open, before either saves:
    their browsers and the forms as shown to each."""
    plan.client.care_team.add(second_persona.user)
    first, second = signed_in(first_persona), signed_in(second_persona)
    return first, second, shown_form(first, plan), shown_form(second, plan)


def referred(plan, *services: str) -> None:
    """The plan refers the client to these services of its clinic's directory, undecided."""
    for name in services:
        agency = ReferralAgency.objects.create(clinic=plan.clinic, name=name)
        PlanReferral.objects.create(plan=plan, agency=agency, client_decision="undecided")


def test_plan_page_shows_goals_and_the_preview(alice, plan) -> None:
    page = signed_in(alice).get(f"/plans/{plan.pk}/").content.decode()
    assert "Feel less drained after shifts" in page
    assert f'src="/api/v1/plans/{plan.pk}/preview"' in page  # the clinic's copy
    assert f'src="/api/v1/plans/{plan.pk}/preview?copy=client"' in page  # and the client's


def test_a_couples_plan_page_is_headed_with_both_names(alice, persona_plan) -> None:
    """As the PDF's title names them: both people of a couple, not the record's one name."""
    plan = persona_plan("couple")
    plan.client.display_name = "Sam"
    plan.client.save()
    page = signed_in(alice).get(f"/plans/{plan.pk}/").content.decode()
    assert "<h1>Care plan for Sam and Alex</h1>" in page


def test_a_couple_decide_and_sign_together_in_the_same_fields(alice, persona_plan) -> None:
    """One decision and one signature box for a couple, said to both of them ("We agree with
    this plan"; it said "I agree" and "Client's signature"), recorded under the same codes."""
    plan = persona_plan("couple")
    browser = signed_in(alice)
    page = browser.get(f"/plans/{plan.pk}/")
    html = page.content.decode()
    assert "The couple&#x27;s decision on this plan as shown" in html
    assert "We agree with this plan" in html
    assert "Their signatures: both names as they want them on the plan (optional)" in html
    assert "I agree with this plan" not in html
    saved = save(
        browser,
        plan,
        read_form(page),
        **{"agreement-client_decision": "agrees", "agreement-client_signed_name": "Sam, Alex"},
    )
    assert saved.status_code == 302
    plan.refresh_from_db()
    assert (plan.client_decision, plan.client_signed_name) == ("agrees", "Sam, Alex")
    recorded = browser.get(f"/plans/{plan.pk}/").content.decode()
    assert "Recorded for version 1: “We agree with this plan”, signed “Sam, Alex”" in recorded


def test_the_clients_recorded_comment_is_shown_on_the_page(alice, plan) -> None:
    """Recorded with the decision, the client's comment is on the page they are going through
    (it was only in the PDF and the API)."""
    agreement = {"client_decision": "wants_changes", "client_comment": "Less about money"}
    plan_update(plan=plan, actor=alice.user, changes={"agreement": agreement})
    page = signed_in(alice).get(f"/plans/{plan.pk}/").content.decode()
    assert 'Comment: <span class="words">Less about money</span>' in page


def test_outsider_gets_404(charlie, plan) -> None:
    assert signed_in(charlie).get(f"/plans/{plan.pk}/").status_code == 404
    assert signed_in(charlie).post(f"/plans/{plan.pk}/pdf/").status_code == 404


def test_editing_keeps_the_goal_and_adds_steps_and_a_new_goal(alice, plan) -> None:
    browser = signed_in(alice)
    response = save(
        browser,
        plan,
        shown_form(browser, plan),
        **{
            "goal-0-step-0-description": "Rest day",
            "goal-0-step-0-who": "client",
            "goal-0-step-0-frequency": "weekly",
            "goal-1-client_words": "  my new goal",
            "review_date": "2027-03-01",
        },
    )
    assert response.status_code == 302
    goals = list(plan.goals.all())
    assert [g.client_words for g in goals] == ["Feel less drained after shifts", "my new goal"]
    assert [s.description for s in goals[0].steps.all()] == ["Rest day"]


def test_saving_one_field_changes_only_that_field(alice, plan) -> None:
    """The empty "new goal" and "new step" rows are ignored and nothing is preselected."""
    browser = signed_in(alice)
    form = shown_form(browser, plan)
    assert not any(k.endswith("-who") and v for k, v in form.items())
    assert "agreement-client_decision" not in form
    response = save(browser, plan, form, safety_plan="Call Jo")
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.safety_plan == "Call Jo"
    assert plan.goals.count() == 1
    assert plan.client_decision == ""


def test_a_save_keeps_steps_beyond_the_third(alice, plan) -> None:
    goal = plan.goals.get()
    for i in range(5):
        PlanStep.objects.create(goal=goal, position=i, description=f"step {i}", who="client")
    browser = signed_in(alice)
    form = shown_form(browser, plan)
    assert form["goal-0-step-4-description"] == "step 4"
    response = save(
        browser,
        plan,
        form,
        **{"goal-0-step-1-description": "step one, changed", "goal-0-step-5-description": "six"},
    )
    assert response.status_code == 400  # a new step needs "who": never assumed
    assert "Choose who does this step." in response.content.decode()
    response = save(
        browser,
        plan,
        form,
        **{
            "goal-0-step-1-description": "step one, changed",
            "goal-0-step-5-description": "six",
            "goal-0-step-5-who": "peer",
        },
    )
    assert response.status_code == 302
    assert [s.description for s in goal.steps.all()] == [
        "step 0",
        "step one, changed",
        "step 2",
        "step 3",
        "step 4",
        "six",
    ]


def test_an_agency_outside_the_directory_gets_a_message_at_the_field(alice, charlie, plan) -> None:
    elsewhere = ReferralAgency.objects.create(clinic=charlie.clinic, name="Elsewhere Service")
    browser = signed_in(alice)
    form = shown_form(browser, plan)
    response = save(
        browser,
        plan,
        form,
        **{"referral-0-agency": str(elsewhere.pk), "referral-0-client_decision": "accepted"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "not in your clinic&#x27;s referral directory" in page
    assert 'href="#id_referral-0-agency"' in page  # the summary links to the field
    assert plan.referrals.count() == 0


def test_edit_and_agreement_in_one_save_agree_to_the_edited_text(alice, plan) -> None:
    browser = signed_in(alice)
    response = save(
        browser,
        plan,
        shown_form(browser, plan),
        **{
            "goal-0-client_words": "Feel rested after shifts",
            "agreement-client_decision": "agrees",
            "agreement-client_signed_name": "R.",
        },
    )
    assert response.status_code == 302
    plan = TreatmentPlan.objects.get(pk=plan.pk)
    assert plan.goals.get().client_words == "Feel rested after shifts"
    assert plan.status == "agreed"
    assert plan.agreement_sha256 == content_sha256(plan_representation(plan))
    assert plan.versions.get().snapshot["goals"][0]["client_words"] == "Feel rested after shifts"


def test_a_second_editor_sees_what_changed_and_overwrites_nothing(alice, bob, plan) -> None:
    first, second, form_a, form_b = two_editors(alice, bob, plan)
    assert save(first, plan, form_a, safety_plan="Alice's plan").status_code == 302
    response = save(second, plan, form_b, safety_plan="Bob's plan")
    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone else saved this plan" in page
    assert "Alice&#x27;s plan" in page  # what changed
    assert "Bob&#x27;s plan" in page  # their own edit, kept to re-apply
    plan.refresh_from_db()
    assert plan.safety_plan == "Alice's plan"


def test_two_editors_of_different_parts_are_both_saved_and_the_second_is_told(
    alice, bob, plan
) -> None:
    """Different parts (a new goal, a referral and the review date; another goal's restatement
    and the back-up plan) are merged, not sent to the conflict page: both saves are in the
    plan, and the second editor is told what the first changed, to read over with the client."""
    plan.client.care_team.add(bob.user)
    agency = ReferralAgency.objects.create(clinic=alice.clinic, name="Night Clinic")
    first, second = signed_in(alice), signed_in(bob)
    form_a, form_b = shown_form(first, plan), shown_form(second, plan)
    alices = {
        "goal-1-client_words": "Sort out my housing",
        "referral-0-agency": str(agency.pk),
        "referral-0-client_decision": "accepted",
        "review_date": "2027-05-01",
    }
    assert save(first, plan, form_a, **alices).status_code == 302
    bobs = {"goal-0-clinical_restatement": "Restorative sleep", "safety_plan": "Call Jo"}
    response = save(second, plan, form_b, **bobs)
    assert response.status_code == 302
    plan = TreatmentPlan.objects.get(pk=plan.pk)
    goals = list(plan.goals.all())
    assert [g.client_words for g in goals] == [
        "Feel less drained after shifts",
        "Sort out my housing",
    ]
    assert goals[0].clinical_restatement == "Restorative sleep"
    assert (plan.safety_plan, plan.review_date.isoformat()) == ("Call Jo", "2027-05-01")
    assert [(r.agency_id, r.client_decision) for r in plan.referrals.all()] == [
        (agency.pk, "accepted")
    ]
    told = second.get(f"/plans/{plan.pk}/").content.decode()
    said = told[told.index('class="messages"') :]
    said = said[: said.index("</div>")]
    assert "Someone else saved this plan while you had it open" in said
    for label in ("Goal 2 (new)", "Review date", "Referral 1 (new)"):
        assert label in said, label
    assert "Back-up plan" not in said  # the reader's own edit is not listed as someone else's


def test_saved_dates_shown_again_are_not_edits(alice, bob, plan) -> None:
    """A saved review date and goal date, sent back as shown, are not this editor's changes: a
    second editor's save merges with a first editor's new review date (it came back as a
    conflict), and the conflict page lists only what the second editor typed (it listed the
    review date they never touched)."""
    goal = plan.goals.get()
    plan = plan_update(
        plan=plan,
        actor=alice.user,
        changes={
            "review_date": "2027-01-15",
            "goals": [{"id": str(goal.pk), "target_date": "2027-02-01"}],
        },
    )
    first, second, form_a, form_b = two_editors(alice, bob, plan)
    assert save(first, plan, form_a, review_date="2027-03-01").status_code == 302
    assert save(second, plan, form_b, safety_plan="Call Jo").status_code == 302
    plan = TreatmentPlan.objects.get(pk=plan.pk)
    assert (plan.review_date.isoformat(), plan.safety_plan) == ("2027-03-01", "Call Jo")
    first, second, form_a, form_b = two_editors(alice, bob, plan)
    assert save(first, plan, form_a, **{"goal-0-client_words": "Sleep"}).status_code == 302
    conflict = save(second, plan, form_b, **{"goal-0-client_words": "Rest"})
    assert conflict.status_code == 409
    page = conflict.content.decode()
    yours = page[page.index("Your edits, not saved yet") : page.index("</section>")]
    assert "Rest" in yours
    assert "When we look at this plan again" not in yours
    assert "Aiming for" not in yours


def test_a_row_added_on_the_page_is_not_told_to_tick_a_remove_it_does_not_have(alice, plan) -> None:
    browser = signed_in(alice)
    answer = save(
        browser,
        plan,
        shown_form(browser, plan),
        **{"goal-0-step-7-who": "client", "goal-3-target_date": "2027-01-01"},
    )
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "Write the step, or leave the row empty." in page
    assert "Write the goal in the client&#x27;s words, or leave the new goal empty." in page
    assert "tick “Remove" not in page


def test_a_plan_with_a_referral_saved_unchanged_changes_nothing(alice, plan) -> None:
    """A referral's service, sent back as shown, is no edit of it (it counted as one on every
    save, and made every other editor's save a conflict)."""
    referred(plan, "Peer drop-in centre")
    browser = signed_in(alice)
    before = plan_representation(TreatmentPlan.objects.get(pk=plan.pk))
    assert save(browser, plan, shown_form(browser, plan)).status_code == 302
    page = browser.get(f"/plans/{plan.pk}/").content.decode()
    assert "Nothing was changed, so nothing needed saving." in page
    assert plan_representation(TreatmentPlan.objects.get(pk=plan.pk)) == before


def test_a_referral_decided_by_one_and_the_back_up_plan_by_the_other_are_both_saved(
    alice, bob, plan
) -> None:
    referred(plan, "Peer drop-in centre")
    first, second, form_a, form_b = two_editors(alice, bob, plan)
    assert (
        save(first, plan, form_a, **{"referral-0-client_decision": "accepted"}).status_code == 302
    )
    assert save(second, plan, form_b, safety_plan="Call Jo").status_code == 302
    plan = TreatmentPlan.objects.get(pk=plan.pk)
    assert plan.safety_plan == "Call Jo"
    assert [r.client_decision for r in plan.referrals.all()] == ["accepted"]


def test_the_conflict_page_names_the_one_referral_that_changed(alice, bob, plan) -> None:
    referred(plan, "Peer drop-in centre", "Housing advice")
    first, second, form_a, form_b = two_editors(alice, bob, plan)
    assert (
        save(first, plan, form_a, **{"referral-1-client_decision": "accepted"}).status_code == 302
    )
    response = save(second, plan, form_b, **{"referral-1-note": "Call on Monday"})
    assert response.status_code == 409
    page = response.content.decode()
    table = page[page.index('<table class="diff">') : page.index("</table>")]
    assert re.findall(r'<th scope="row">([^<]+)</th>', table) == ["Referral 2"]
    assert "Peer drop-in centre" not in table


def test_a_referral_edit_or_removal_not_saved_is_listed_in_words(alice, bob, plan) -> None:
    """A referral removal that came second is listed to do again, and a decision typed is
    shown by its words, not its code."""
    referred(plan, "Peer drop-in centre")
    plan.client.care_team.add(bob.user)
    for bobs, listed in (
        ({"referral-0-remove": "on"}, "Remove: Peer drop-in centre"),
        (
            {"referral-0-client_decision": "declined", "referral-0-note": "Not now"},
            "Peer drop-in centre · You decided not to use this service · Not now",
        ),
    ):
        first, second = signed_in(alice), signed_in(bob)
        form_a, form_b = shown_form(first, plan), shown_form(second, plan)
        note = f"Asked {len(listed)}"
        assert save(first, plan, form_a, **{"referral-0-note": note}).status_code == 302
        response = save(second, plan, form_b, **bobs)
        assert response.status_code == 409
        page = response.content.decode()
        yours = page[page.index('<dl class="yours">') :]
        yours = yours[: yours.index("</dl>")]
        assert "<dt>Referral 1</dt>" in yours
        assert listed in yours
        assert plan.referrals.get().note == note  # nothing of the second save


def test_the_other_editors_new_goal_is_named_by_its_number_on_the_page(alice, bob, plan) -> None:
    goal = plan.goals.get()
    plan_update(
        plan=plan, actor=alice.user, changes={"goals": [{"id": goal.pk}, {"client_words": "Two"}]}
    )
    first, second, form_a, form_b = two_editors(alice, bob, plan)
    assert save(first, plan, form_a, **{"goal-2-client_words": "Three"}).status_code == 302
    assert save(second, plan, form_b, **{"goal-0-remove": "on"}).status_code == 302
    page = second.get(f"/plans/{plan.pk}/").content.decode()
    said = page[page.index('class="messages"') :]
    said = said[: said.index("</div>")]
    assert "Goal 2 (new)" in said  # "Three" is goal 2 now that goal 1 is gone
    words = [g.client_words for g in TreatmentPlan.objects.get(pk=plan.pk).goals.all()]
    assert words == ["Two", "Three"]


def test_goals_removed_by_each_editor_both_stay_removed(alice, bob, plan) -> None:
    goal = plan.goals.get()
    plan_update(
        plan=plan,
        actor=alice.user,
        changes={"goals": [{"id": goal.pk}, {"client_words": "Two"}, {"client_words": "Three"}]},
    )
    first, second, form_a, form_b = two_editors(alice, bob, plan)
    assert save(first, plan, form_a, **{"goal-1-remove": "on"}).status_code == 302
    assert save(second, plan, form_b, **{"goal-2-remove": "on"}).status_code == 302
    kept = [g.client_words for g in TreatmentPlan.objects.get(pk=plan.pk).goals.all()]
    assert kept == ["Feel less drained after shifts"]


def test_the_conflict_page_lists_the_review_and_every_part_of_a_step_typed(
    alice, bob, plan
) -> None:
    """Nothing typed into a save that came second is left off "Your edits, not saved yet": the
    client's rating and note, the review note, a step's frequency."""
    plan.client.care_team.add(bob.user)
    goal = plan.goals.get()
    first, second = signed_in(alice), signed_in(bob)
    form_a, form_b = shown_form(first, plan), shown_form(second, plan)
    assert save(first, plan, form_a, **{"goal-0-clinical_restatement": "A"}).status_code == 302
    typed = {
        "goal-0-clinical_restatement": "B",
        "goal-0-step-0-description": "Go to the drop-in on Thursdays",
        "goal-0-step-0-who": "client",
        "goal-0-step-0-frequency": "weekly",
        f"review-{goal.pk}-progress": "3",
        f"review-{goal.pk}-client_note": "Nearly there, she says",
        "review-note": "Review three: proud of this",
    }
    response = save(second, plan, form_b, **typed)
    assert response.status_code == 409
    page = response.content.decode()
    yours = page[page.index('<dl class="yours">') :]
    yours = yours[: yours.index("</dl>")]
    for words in (
        "Go to the drop-in on Thursdays (Me, weekly)",
        "3: Most of the way",
        "Nearly there, she says",
        "Review three: proud of this",
    ):
        assert words in yours, words
    assert not goal.progress.exists()  # nothing of it saved, as the page says


@pytest.mark.parametrize(
    ("alices", "bobs"),
    [
        # the same goal: its words, and a step written for the words as they were
        (
            {"goal-0-client_words": "Sleep through, my way"},
            {
                "goal-0-step-0-description": "Rest day",
                "goal-0-step-0-who": "client",
                "goal-0-step-0-frequency": "weekly",
            },
        ),
        # a goal edited, and the same goal removed
        ({"goal-0-clinical_restatement": "Sleep hygiene"}, {"goal-0-remove": "on"}),
        ({"goal-0-remove": "on"}, {"goal-0-clinical_restatement": "Sleep hygiene"}),
        # the same plan field
        ({"safety_plan": "Alice's plan"}, {"safety_plan": "Bob's plan"}),
        # the client's decision recorded first: an edit after it is not slipped in unseen
        (
            {"agreement-client_decision": "agrees", "agreement-client_signed_name": "R"},
            {"safety_plan": "Bob's plan"},
        ),
        # a decision given on the plan as the page showed it, not as it is now
        (
            {"review_date": "2027-05-01"},
            {"agreement-client_decision": "agrees", "agreement-client_signed_name": "R"},
        ),
    ],
)
def test_two_editors_of_the_same_part_get_the_conflict_page(alice, bob, plan, alices, bobs) -> None:
    first, second, form_a, form_b = two_editors(alice, bob, plan)
    assert save(first, plan, form_a, **alices).status_code == 302
    after_alice = plan_representation(TreatmentPlan.objects.get(pk=plan.pk))
    response = save(second, plan, form_b, **bobs)
    assert response.status_code == 409
    assert "Someone else saved this plan" in response.content.decode()
    assert plan_representation(TreatmentPlan.objects.get(pk=plan.pk)) == after_alice


def test_a_second_editors_decision_comment_and_signatures_are_shown_to_re_apply(
    alice, bob, plan
) -> None:
    """The client's own comment and both signatures typed into a save that came second are
    all listed under "Your edits, not saved yet", the decision by its label."""
    first, second, form_a, form_b = two_editors(alice, bob, plan)
    assert save(first, plan, form_a, safety_plan="Alice's plan").status_code == 302
    typed = {
        "agreement-client_decision": "wants_changes",
        "agreement-client_comment": "Please change goal 2.\r\n\r\nAnd call me Ana.",
        "agreement-client_signed_name": "Ana M",
        "agreement-clinician_signed_name": "Dr Bob",
    }
    response = save(second, plan, form_b, **typed)
    assert response.status_code == 409
    page = response.content.decode()
    yours = page[
        page.index('<dl class="yours">') : page.index("</dl>", page.index('<dl class="yours">'))
    ]
    for words in ("Please change goal 2.\n\nAnd call me Ana.", "Ana M", "Dr Bob"):
        assert words in yours, words
    assert "wants_changes" not in yours
    assert "I agree, with the changes I asked for" in yours
    plan.refresh_from_db()
    assert (plan.client_decision, plan.client_comment) == ("", "")


def test_a_second_editor_whose_save_needed_a_fix_still_overwrites_nothing(alice, bob, plan) -> None:
    """The out-of-date check survives a save refused for a missing field: the page that asks for
    the fix still carries the version its editor started from, so the corrected save is told
    what changed instead of quietly putting back the other editor's goal words."""
    first, second, form_a, form_b = two_editors(alice, bob, plan)
    saved = save(first, plan, form_a, **{"goal-0-client_words": "Sleep through, my way"})
    assert saved.status_code == 302
    step = {"goal-0-step-0-description": "Rest day", "goal-0-step-0-frequency": "weekly"}
    needs_fix = save(second, plan, form_b, **step)  # "who does it" left empty
    assert needs_fix.status_code == 400
    fixed = save(second, plan, read_form(needs_fix), **{"goal-0-step-0-who": "client"})
    assert fixed.status_code == 409
    assert "Someone else saved this plan" in fixed.content.decode()
    plan.refresh_from_db()
    assert plan.goals.get().client_words == "Sleep through, my way"
    assert not plan.goals.get().steps.exists()


def test_quick_exit_keeps_unsaved_edits_as_a_draft_for_their_author_alone(alice, bob, plan) -> None:
    """What was typed and not saved when quick exit was pressed is kept (encrypted) for its
    author, offered back on the next visit, written to the plan only by their Save, and
    checked then against others' changes like any save; nobody else sees it."""
    from django.db import connection

    from plans.models import PlanDraft

    plan.client.care_team.add(bob.user)
    browser = signed_in(alice)
    form = shown_form(browser, plan)
    typed = {**form, "safety_plan": "Call Jo, then the peer line"}
    cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    browser.logout()  # quick exit signs out; the beacon may land after it
    # Without the browser's session cookie (a token copied from the page) it is refused.
    assert Browser().post("/plans/away/save/", typed).status_code == 403
    forged = {**typed, "quick_save_token": "x"}
    assert beacon(cookie).post("/plans/away/save/", forged).status_code == 403
    assert beacon(cookie).post("/plans/away/save/", typed).status_code == 204
    plan.refresh_from_db()
    assert plan.safety_plan != "Call Jo, then the peer line"  # nothing written to the plan
    with connection.cursor() as cursor:
        cursor.execute("SELECT form FROM plans_plandraft")
        assert "peer line" not in str(cursor.fetchall())  # encrypted at rest
    browser = signed_in(alice)
    page = browser.get(f"/plans/{plan.pk}/").content.decode()
    assert "You left this plan with changes not saved" in page
    assert "peer line" not in page  # not shown until asked for
    assert "You left this plan" not in signed_in(bob).get(f"/plans/{plan.pk}/").content.decode()
    restored = browser.get(f"/plans/{plan.pk}/?draft=1")
    assert "Call Jo, then the peer line" in restored.content.decode()
    assert save(browser, plan, read_form(restored)).status_code == 302
    plan.refresh_from_db()
    assert plan.safety_plan == "Call Jo, then the peer line"
    assert not PlanDraft.objects.exists()


def test_a_draft_saved_after_someone_else_saved_is_told_what_changed(alice, bob, plan) -> None:
    plan.client.care_team.add(bob.user)
    first, second = signed_in(alice), signed_in(bob)
    form_a = shown_form(first, plan)
    left = beacon(first.cookies[settings.SESSION_COOKIE_NAME].value)
    assert left.post("/plans/away/save/", {**form_a, "safety_plan": "A's"}).status_code == 204
    assert save(second, plan, shown_form(second, plan), safety_plan="Bob's").status_code == 302
    restored = first.get(f"/plans/{plan.pk}/?draft=1")
    response = save(first, plan, read_form(restored))
    assert response.status_code == 409
    plan.refresh_from_db()
    assert plan.safety_plan == "Bob's"


def test_drafts_nobody_came_back_to_are_erased_after_a_week(alice, plan) -> None:
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from plans.models import PlanDraft
    from plans.services import plan_drafts_purge

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "plans.tasks.purge_plan_drafts" in tasks
    browser = signed_in(alice)
    leave_a_draft(browser, plan, safety_plan="x y")
    assert plan_drafts_purge() == 0
    PlanDraft.objects.update(updated_at=timezone.now() - timedelta(days=8))
    assert "You left this plan" not in browser.get(f"/plans/{plan.pk}/").content.decode()
    assert plan_drafts_purge() == 1
    assert not PlanDraft.objects.exists()


def test_a_draft_can_be_let_go(alice, plan) -> None:
    from plans.models import PlanDraft

    browser = signed_in(alice)
    leave_a_draft(browser, plan, safety_plan="x y")
    assert PlanDraft.objects.count() == 1
    assert browser.post(f"/plans/{plan.pk}/draft/discard/").status_code == 302
    assert not PlanDraft.objects.exists()


def test_taken_off_the_care_team_their_unsaved_changes_go_with_the_client(alice, bob, plan) -> None:
    """A clinician taken off a client's care team keeps nothing of the client's: the plan
    changes they left unsaved (quick exit) are erased then, not kept until they expire."""
    from clients.services import client_care_team_set
    from plans.models import PlanDraft

    plan.client.care_team.add(bob.user)
    leave_a_draft(signed_in(alice), plan, safety_plan="Alice's words")
    leave_a_draft(signed_in(bob), plan, safety_plan="Bob's words")
    client_care_team_set(client=plan.client, actor=alice.user, usernames=[alice.user.username])
    assert list(PlanDraft.objects.values_list("author_id", flat=True)) == [alice.user.pk]
    # Put back on the team, there is nothing of theirs to be offered.
    plan.client.care_team.add(bob.user)
    assert "You left this plan" not in signed_in(bob).get(f"/plans/{plan.pk}/").content.decode()


def test_recording_agreement_freezes_the_version(alice, plan) -> None:
    browser = signed_in(alice)
    save(
        browser,
        plan,
        shown_form(browser, plan),
        **{
            "agreement-client_decision": "agrees",
            "agreement-client_signed_name": "R",
            "agreement-clinician_signed_name": "A. Okafor",
        },
    )
    plan.refresh_from_db()
    assert plan.status == "agreed"
    assert plan.versions.count() == 1
    page = browser.get(f"/plans/{plan.pk}/").content.decode()
    assert "signed “R”; clinician: “A. Okafor”" in page


def with_a_wording_finding(persona, plan, monkeypatch) -> Browser:
    """Signed in, no broker, and a restatement the language check flags ("refuses")."""
    monkeypatch.setattr(document_services, "_enqueue", lambda _id: None)
    browser = signed_in(persona)
    save(
        browser,
        plan,
        shown_form(browser, plan),
        **{"goal-0-clinical_restatement": "Client refuses to rest"},
    )
    return browser


def test_wording_findings_are_shown_before_the_pdf_and_can_be_overridden(
    alice, plan, monkeypatch
) -> None:
    browser = with_a_wording_finding(alice, plan, monkeypatch)
    page = browser.post(f"/plans/{plan.pk}/pdf/").content.decode()
    assert "Try: declines" in page
    assert PlanDocument.objects.count() == 0
    response = browser.post(f"/plans/{plan.pk}/pdf/", {"proceed": "1"})
    assert response.status_code == 302
    assert PlanDocument.objects.count() == 1


def test_a_copy_asked_for_with_a_passphrase_is_never_made_without_it(
    alice, plan, monkeypatch
) -> None:
    """The wording review drops the passphrase (it is not kept): going ahead with its field left
    empty is refused at the field, nothing is made; typed again, the copy is protected."""
    browser = with_a_wording_finding(alice, plan, monkeypatch)
    review = browser.post(f"/plans/{plan.pk}/pdf/", {"copy": "client", "passphrase": "kestrel-7"})
    assert "Type the passphrase again" in review.content.decode()
    form = dict(
        re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', review.content.decode())
    )
    assert form["passphrase_wanted"] == "1"
    assert "kestrel" not in review.content.decode()
    refused = browser.post(f"/plans/{plan.pk}/pdf/", {**form, "passphrase": "", "proceed": "1"})
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "it is not made without it" in page
    assert 'aria-describedby="pdf-passphrase-error"' in page
    assert PlanDocument.objects.count() == 0
    made = browser.post(
        f"/plans/{plan.pk}/pdf/", {**form, "passphrase": "kestrel-7", "proceed": "1"}
    )
    assert made.status_code == 302
    assert PlanDocument.objects.get().protected


def test_the_clients_own_words_never_block_the_pdf(alice, plan, monkeypatch) -> None:
    monkeypatch.setattr(document_services, "_enqueue", lambda _id: None)
    browser = signed_in(alice)
    save(
        browser,
        plan,
        shown_form(browser, plan),
        **{"goal-1-client_words": "stop feeling like a victim"},
    )
    assert plan.goals.count() == 2
    assert browser.post(f"/plans/{plan.pk}/pdf/").status_code == 302
    assert PlanDocument.objects.count() == 1


def test_consultation_flag_shows_on_the_authors_dashboard_only(alice, bob, plan) -> None:
    plan.client.care_team.add(bob.user)
    Reflection.objects.create(
        intake=plan.intake, author=alice.user, notes="x", consultation_wanted=True
    )
    assert (
        "You asked to talk these through in consultation"
        in signed_in(alice).get("/").content.decode()
    )
    assert "consultation" not in signed_in(bob).get("/").content.decode()


def test_repeated_dismissals_prompt_consultation_on_the_dashboard(alice) -> None:
    for _ in range(3):
        alice.api.post("/api/v1/language-check/dismissals/", {"term": "claims"}, format="json")
    page = signed_in(alice).get("/").content.decode()
    assert "You have kept these flagged words several times: claims" in page


def test_review_reminders_show_on_the_clinicians_own_page_until_reviewed(alice, bob, plan) -> None:
    import datetime

    from plans.services import plan_review_record

    plan.review_date = datetime.date(2020, 1, 1)
    plan.save()
    home = signed_in(alice).get("/").content.decode()
    assert "Plans due for a review" in home
    assert (
        f'href="/plans/{plan.pk}/"'
        in home.split("Plans due for a review")[1].split("</section>")[0]
    )
    assert "Plans due for a review" not in signed_in(bob).get("/").content.decode()
    goal = plan.goals.get()
    plan_review_record(plan=plan, actor=alice.user, goals=[{"goal": goal.pk, "progress": 2}])
    assert "Plans due for a review" not in signed_in(alice).get("/").content.decode()


def test_a_review_is_recorded_in_the_same_save(alice, plan) -> None:
    browser = signed_in(alice)
    goal = plan.goals.get()
    form = shown_form(browser, plan)
    assert not any(k.startswith("review-") and k.endswith("progress") for k in form)
    response = save(
        browser,
        plan,
        form,
        **{f"review-{goal.pk}-progress": "3", f"review-{goal.pk}-client_note": "better"},
    )
    assert response.status_code == 302
    [rating] = goal.progress.all()
    assert (rating.progress, rating.client_note) == (3, "better")
    page = browser.get(f"/plans/{plan.pk}/").content.decode()
    assert "3 of 4" in page


def test_the_editor_names_the_clients_own_terms_for_the_language_check(alice, plan) -> None:
    import json
    import re

    page = signed_in(alice).get(f"/plans/{plan.pk}/").content.decode()
    tag = re.search(r"<form[^>]*data-language-check-form[^>]*>", page).group(0)
    raw = re.search(r'data-client-terms="([^"]*)"', tag).group(1)
    terms = json.loads(raw.replace("&quot;", '"').replace("&#x27;", "'").replace("&amp;", "&"))
    # The language service's one list: the goals' words and the client's term for their work.
    assert {"cam work", "Feel less drained after shifts"} <= set(terms)


def test_a_form_without_its_version_or_with_foreign_ids_is_refused_or_harmless(
    alice, plan, persona_plan
) -> None:
    browser = signed_in(alice)
    form = shown_form(browser, plan)
    response = save(browser, plan, {**form, "base": "tampered"}, safety_plan="x")
    assert response.status_code == 400
    assert "nothing was saved" in response.content.decode()
    other = persona_plan("leaving")
    other_goal = other.goals.get()
    response = save(
        browser, plan, form, **{"goal-0-id": str(other_goal.pk), "goal-0-client_words": "mine"}
    )
    assert response.status_code == 302
    other_goal.refresh_from_db()
    assert other_goal.client_words == "Find steady work I like"
    assert other_goal.plan_id == other.pk


def test_an_outsider_cannot_post_to_the_plan_page(charlie, plan) -> None:
    assert signed_in(charlie).post(f"/plans/{plan.pk}/", {"safety_plan": "x"}).status_code == 404
    plan.refresh_from_db()
    assert plan.safety_plan == ""


def test_a_review_date_with_a_slipped_year_is_asked_about_on_the_page(alice, plan) -> None:
    before = plan.review_date
    browser = signed_in(alice)
    response = save(browser, plan, shown_form(browser, plan), review_date="1900-01-01")
    assert response.status_code == 400
    assert "Check the year: a date from 2000 to" in response.content.decode()
    plan.refresh_from_db()
    assert plan.review_date == before


def test_the_notes_the_pdf_prints_can_be_read_and_changed_on_the_page(alice, plan) -> None:
    """The coping notes from the intake print with the client's strengths: the editor shows
    them (behind "Read or change them") and saves a change like any field."""
    TreatmentPlan.objects.filter(pk=plan.pk).update(
        strengths_notes="I laugh it off.\n\nSometimes I don't.", supports_notes=""
    )
    browser = signed_in(alice)
    page = browser.get(f"/plans/{plan.pk}/").content.decode()
    assert "Notes on strengths and supports: printed in the plan" in page
    form = read_form(browser.get(f"/plans/{plan.pk}/"))
    assert form["strengths_notes"] == "I laugh it off.\n\nSometimes I don't."
    saved = save(browser, plan, form, supports_notes="My flatmate\r\nand Jo")
    assert saved.status_code == 302
    plan.refresh_from_db()
    assert plan.supports_notes == "My flatmate\nand Jo"
    assert plan.strengths_notes == "I laugh it off.\n\nSometimes I don't."
