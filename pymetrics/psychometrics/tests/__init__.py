"""Tests of the trait mathematics, each against numbers worked out by hand."""
