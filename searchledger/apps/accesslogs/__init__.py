"""External systems' own access logs: column mappings, imports and account mappings."""
