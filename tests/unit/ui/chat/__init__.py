"""Tests of the Chat tab's Qt-free parts."""
