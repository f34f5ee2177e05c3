"""One module per agent command; each exposes a plain function doing the work."""
