"""The Turtle Soup tab: the game, its puzzle editor and the model race."""
