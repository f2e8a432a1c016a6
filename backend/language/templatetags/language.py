"""{{ plan|client_terms_json }}: the client's own terms, for the plan editor's inline check."""

import json

from django import template

from plans.models import TreatmentPlan

from ..services import plan_client_terms

register = template.Library()


@register.filter
def client_terms_json(plan: TreatmentPlan) -> str:
    """JSON for a data-client-terms attribute (auto-escaped by the template, decoded by the
    browser): the words the inline check must never flag."""
    return json.dumps(plan_client_terms(plan))
