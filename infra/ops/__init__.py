"""Operations: the embedded stack and its supervisor, health, the audit, recovery, the
demo and its scenarios, the standards folder, deployment secrets."""
