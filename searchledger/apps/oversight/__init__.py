"""The register of oversight bodies' recommendations, the agency's responses, action plans
and the evidence of progress."""
