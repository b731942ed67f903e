"""Tests of the Chat tab and the Savings tab."""
