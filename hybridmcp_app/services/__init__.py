"""The application layer: what the window, the command line and the local API all use."""
