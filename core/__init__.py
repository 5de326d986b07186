"""Shared building blocks with no models: call context, AWS errors, IDs, ARNs, the call wrapper."""
