"""Tests of the first-run wizard."""
