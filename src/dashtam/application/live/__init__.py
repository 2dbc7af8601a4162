"""Live sources: connecting one (claiming its setup token), syncing it, scheduling syncs."""
