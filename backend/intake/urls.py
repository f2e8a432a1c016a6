from django.contrib.auth import views as auth_views
from django.urls import path
from exports import views as export_views

from accounts.two_factor import two_factor
from clients import views as client_views
from plans import views as plan_views
from referrals import views as referral_views

from . import views
from .wizard import IntakeWizard

urlpatterns = [
    path("referrals/", referral_views.directory, name="referral-directory"),
    path("exports/", export_views.exports_page, name="exports"),
    path("exports/<uuid:job_id>/download/", export_views.export_download, name="export-download"),
    path("referrals/<uuid:agency_id>/", referral_views.agency_edit, name="referral-edit"),
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("away/", views.away, name="away"),
    path("away/save/", views.quick_save, name="quick-save"),
    path("account/two-factor/", two_factor, name="two-factor"),
    path("intakes/start/", views.start_intake, name="intake-start"),
    path("clients/<uuid:client_id>/erase/", views.client_erase_view, name="client-erase"),
    path("clients/<uuid:client_id>/care-team/", client_views.care_team, name="client-care-team"),
    path("intakes/<uuid:intake_id>/", views.intake_resume, name="intake-resume"),
    path("intakes/<uuid:intake_id>/summary/", views.intake_summary, name="intake-summary"),
    path("intakes/<uuid:intake_id>/step/<str:step>/", IntakeWizard.as_wizard(), name="intake-step"),
    path("intakes/<uuid:intake_id>/paused/", views.intake_paused, name="intake-paused"),
    path("intakes/<uuid:intake_id>/private/<str:step>/", views.private_step, name="intake-private"),
    path("plans/<uuid:plan_id>/", plan_views.plan_detail, name="plan-detail"),
    path("plans/away/save/", plan_views.plan_quick_save, name="plan-quick-save"),
    path(
        "plans/<uuid:plan_id>/draft/discard/",
        plan_views.plan_draft_discard,
        name="plan-draft-discard",
    ),
    path("plans/<uuid:plan_id>/pdf/", plan_views.plan_request_pdf, name="plan-request-pdf"),
    path(
        "documents/<uuid:document_id>/download/",
        plan_views.document_download,
        name="document-download",
    ),
]
