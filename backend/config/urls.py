from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from exports import api as exports_api
from fhir_r4 import views as fhir
from webhooks import api as webhooks_api

from accounts.api import Me
from audit import api as audit_api
from clients import api as clients_api
from common.health import healthz
from documents import api as documents_api
from intake import api as intake_api
from language import api as language_api
from plans import api as plans_api
from referrals import api as referrals_api
from smart import views as smart_views

api_v1 = [
    path("me", Me.as_view(), name="me"),
    path("clients/", clients_api.ClientListCreate.as_view(), name="client-list"),
    path("clients/<str:pk>/", clients_api.ClientDetail.as_view(), name="client-detail"),
    path("forms/<str:kind>/", intake_api.FormDefinition.as_view(), name="form-definition"),
    path("intakes/", intake_api.IntakeListCreate.as_view(), name="intake-create"),
    path("intakes/<str:pk>/", intake_api.IntakeDetail.as_view(), name="intake-detail"),
    path("intakes/<str:pk>/steps/<str:step>/", intake_api.IntakeStep.as_view(), name="intake-step"),
    path("intakes/<str:pk>/complete/", intake_api.IntakeComplete.as_view(), name="intake-complete"),
    path(
        "intakes/<str:pk>/private-checks/",
        intake_api.IntakePrivateChecks.as_view(),
        name="intake-private-checks",
    ),
    path("plans/", plans_api.PlanList.as_view(), name="plan-list"),
    path("plans/<str:pk>/", plans_api.PlanDetail.as_view(), name="plan-api-detail"),
    path("plans/<str:pk>/reviews/", plans_api.PlanReviews.as_view(), name="plan-reviews"),
    path("plans/<str:pk>/preview", plans_api.PlanPreview.as_view(), name="plan-preview"),
    path("plans/<str:pk>/documents/", documents_api.PlanDocuments.as_view(), name="plan-documents"),
    path("documents/", documents_api.DocumentList.as_view(), name="document-list"),
    path("documents/<str:pk>/", documents_api.DocumentDetail.as_view(), name="document-detail"),
    path("documents/<str:pk>/pdf", documents_api.DocumentPdf.as_view(), name="document-pdf"),
    path("language-check/", language_api.LanguageCheck.as_view(), name="language-check"),
    path(
        "language-check/dismissals/",
        language_api.LanguageDismissal.as_view(),
        name="language-dismissal",
    ),
    path("referral-agencies/", referrals_api.AgencyListCreate.as_view(), name="agency-list"),
    path("referral-agencies/<str:pk>/", referrals_api.AgencyDetail.as_view(), name="agency-detail"),
    path(
        "plans/<str:pk>/referral-suggestions",
        referrals_api.ReferralSuggestions.as_view(),
        name="referral-suggestions",
    ),
    path("audit-events/", audit_api.AuditEventList.as_view(), name="audit-events"),
    path("webhooks/", webhooks_api.WebhookList.as_view(), name="webhook-list"),
    path("webhooks/<str:pk>/", webhooks_api.WebhookDetail.as_view(), name="webhook-detail"),
    path("webhooks/<str:pk>/ping", webhooks_api.WebhookPing.as_view(), name="webhook-ping"),
    path(
        "webhooks/<str:pk>/deliveries/<str:delivery>/redeliver",
        webhooks_api.WebhookRedeliver.as_view(),
        name="webhook-redeliver",
    ),
    path(
        "webhooks/<str:pk>/rotate-secret",
        webhooks_api.WebhookRotateSecret.as_view(),
        name="webhook-rotate-secret",
    ),
    path("exports/", exports_api.ExportCreate.as_view(), name="export-create"),
    path("exports/<str:pk>/", exports_api.ExportDetail.as_view(), name="export-detail"),
    path("exports/<str:pk>/zip", exports_api.ExportZip.as_view(), name="export-zip"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

fhir_paths = [
    path("metadata", fhir.CapabilityView.as_view(), name="fhir-metadata"),
    path("Questionnaire/<str:pk>", fhir.QuestionnaireView.as_view()),
    path("Binary/<str:pk>", fhir.BinaryView.as_view(), name="fhir-binary"),
    path("$export", fhir.ExportKickOffView.as_view(), name="fhir-export"),
    path("Patient/$export", fhir.ExportKickOffView.as_view(), name="fhir-patient-export"),
    path("$export-poll/<str:pk>", fhir.ExportStatusView.as_view(), name="fhir-export-status"),
    path(
        "$export-file/<str:pk>/<str:resource_type>.ndjson",
        fhir.ExportFileView.as_view(),
        name="fhir-export-file",
    ),
    path("<str:resource_type>/_search", fhir.SearchPostView.as_view(), name="fhir-search-post"),
    path("<str:resource_type>/<str:pk>", fhir.ReadView.as_view(), name="fhir-read"),
    path("<str:resource_type>", fhir.SearchView.as_view(), name="fhir-search"),
    re_path(r"", fhir.UnknownView.as_view()),  # anything else: an OperationOutcome 404
]

urlpatterns = [
    path("fhir/", include(fhir_paths)),
    re_path(r"^fhir$", fhir.UnknownView.as_view()),
    path(".well-known/smart-configuration", smart_views.smart_configuration),
    path("oauth/token", smart_views.token, name="oauth-token"),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include(api_v1)),
    path("admin/", admin.site.urls),
    path("", include("intake.urls")),
]

# Errors outside DRF (e.g. the database down in middleware) keep the API's JSON shape.
handler400 = "common.errors.bad_request"
handler403 = "common.errors.permission_denied"
handler404 = "common.errors.not_found"
handler500 = "common.errors.server_error"
