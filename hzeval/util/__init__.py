"""Floor 0: small helpers with no knowledge of the domain (query to frame, escaping, paths inside
a folder, atomic files, fault injection for the crash tests)."""
