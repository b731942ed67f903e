"""Tests of the Turtle Soup tab."""
