"""Candidate feedback reports (HTML and PDF), recruiter reports (PDF) and data exports."""
