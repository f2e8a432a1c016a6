"""The /fhir/ responses in the OpenAPI schema: FHIR R4 resources and the search Bundle.

A resource's content is defined by FHIR R4 itself, not here: the schema names what every
resource has and leaves the rest open, and FHIR clients read it with their own FHIR models."""

from rest_framework import serializers

from common.schema import RawSchemaSerializer

R4_SCHEMA = "https://hl7.org/fhir/R4/fhir.schema.json"


class FhirResourceSerializer(RawSchemaSerializer):
    json_schema = {
        "type": "object",
        "description": "A FHIR R4 resource as JSON. Only what every resource here has is "
        f"described; the official FHIR R4 JSON schema ({R4_SCHEMA}) governs the rest, so "
        "read it with a FHIR R4 model library.",
        "required": ["resourceType", "id", "meta"],
        "properties": {
            "resourceType": {"type": "string", "example": "CarePlan"},
            "id": {"type": "string"},
            "meta": {
                "type": "object",
                "properties": {
                    "versionId": {"type": "string"},
                    "lastUpdated": {"type": "string", "format": "date-time"},
                },
                "additionalProperties": True,
            },
        },
        "additionalProperties": True,
    }


class FhirBundleMetaSerializer(serializers.Serializer):
    lastUpdated = serializers.DateTimeField()


class FhirBundleLinkSerializer(serializers.Serializer):
    relation = serializers.ChoiceField(choices=["self", "next", "previous"])
    url = serializers.CharField()


class FhirBundleSearchSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=["match"])


class FhirBundleEntrySerializer(serializers.Serializer):
    fullUrl = serializers.CharField()
    resource = FhirResourceSerializer()
    search = FhirBundleSearchSerializer()


class FhirBundleSerializer(serializers.Serializer):
    """A FHIR R4 Bundle of type searchset: one page of matches, with links to the others."""

    resourceType = serializers.ChoiceField(choices=["Bundle"])
    id = serializers.CharField()
    meta = FhirBundleMetaSerializer()
    type = serializers.ChoiceField(choices=["searchset"])
    total = serializers.IntegerField(help_text="Matches in all pages.")
    link = FhirBundleLinkSerializer(many=True)
    entry = FhirBundleEntrySerializer(
        many=True, required=False, help_text="Left out when nothing matches."
    )


class FhirIssueSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=["error"])
    code = serializers.CharField(help_text="A FHIR issue type, e.g. not-found, login, invalid.")
    diagnostics = serializers.CharField()
    expression = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="The search parameter at fault."
    )


class FhirOperationOutcomeSerializer(serializers.Serializer):
    """Every error under /fhir/ (DESIGN, Interoperability), in place of the API's Error."""

    resourceType = serializers.ChoiceField(choices=["OperationOutcome"])
    issue = FhirIssueSerializer(many=True)
