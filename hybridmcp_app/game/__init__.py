"""Turtle soup: the puzzle bank, the game's rules, the hosts that judge questions. No Qt here."""
