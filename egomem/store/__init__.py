"""Store: where episodic events live, behind one interface for embedded and server backends."""
