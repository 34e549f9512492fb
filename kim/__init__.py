"""Entry points: the command line and the composition root that assembles the contexts."""
