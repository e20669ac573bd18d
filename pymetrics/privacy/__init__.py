"""Candidates' data rights: consent records, their data export, erasure and retention."""
