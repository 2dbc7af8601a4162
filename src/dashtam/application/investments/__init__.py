"""Use cases of the investment side: reading positions, trades, securities and value over time."""
