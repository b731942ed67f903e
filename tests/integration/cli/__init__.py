"""The command lines against real models, libraries and processes."""
