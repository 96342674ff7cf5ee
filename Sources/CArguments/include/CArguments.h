// Intentionally empty: this target only replaces a Swift runtime hook (see CArguments.c).
