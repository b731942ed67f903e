"""Tests of the Settings dialog and its pages."""
