"""Use cases: the only layer that combines engines (and, later, persistence) into answers."""
