"""Plan reminders on the clinician's own page (a tag, so that the page's view stays as it is)."""

from typing import Any

from django import template
from django.utils import timezone

from accounts.permissions import membership_of

from ..selectors import plans_due_for_review

register = template.Library()


@register.inclusion_tag("plans/_review_reminders.html", takes_context=True)
def plan_review_reminders(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    membership = membership_of(request.user) if request is not None else None
    if membership is None:
        return {"due": []}
    today = timezone.localdate()
    return {"due": list(plans_due_for_review(membership=membership, today=today)[:50])}
