from django.contrib import admin

from .models import ApiToken, Clinic, Membership


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ("name", "require_two_factor", "created_at")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "clinic", "role")
    list_filter = ("role",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("token_key", "name", "user", "scopes", "created", "expiry")
    readonly_fields = ("digest", "token_key", "user", "created")
