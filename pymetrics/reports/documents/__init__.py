"""The candidate feedback report (HTML and PDF) and the recruiter report (PDF)."""
