"""The investments API: positions, trades, securities and value over time."""
