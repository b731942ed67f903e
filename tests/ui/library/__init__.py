"""Tests of the Library tab."""
