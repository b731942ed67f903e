"""The first-run wizard: its pages and what it sets up."""
