"""Answers for whole steps, shared by the API and wizard tests."""

CONSENT = {"confidentiality_explained": True, "recording_preference": "minimal"}
GOALS = {"client_goals": ["Feel less on edge at night", "sort out my housing"]}
