"""Memory: a short-term buffer of perception records, cut into long-term episodic events."""
