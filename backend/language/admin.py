from django.contrib import admin

from .models import ClinicLexiconEntry


@admin.register(ClinicLexiconEntry)
class ClinicLexiconEntryAdmin(admin.ModelAdmin):
    list_display = ("term", "suggestion", "clinic")
    list_filter = ("clinic",)
