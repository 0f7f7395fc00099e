"""Floor 7, the entry point: ``main`` (commands), ``requires`` (what a command needs opened),
``params`` (each shared option declared once), ``console`` (every table and progress display)."""
