"""Training courses, completions and acknowledgments of rules of behaviour."""
