"""Perception: turn decoded media into records of what was heard and seen."""
