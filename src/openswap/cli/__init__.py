"""The command line: the composition root that wires catalog, engines and terminal output."""
