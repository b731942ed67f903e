"""Small widgets shared by the features: banner, empty state, form parts, notifier and helpers."""
