"""Adapters to Temporal: the payload codec that seals everything the service sends through
Temporal (`codec`), the keys it seals with (`keys`), and the operators' door to decode what
Temporal holds (`codec_endpoint`)."""
