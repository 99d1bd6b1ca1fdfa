"""perfkit: the Python half of the MCP Gateway Performance Kit (bash drives, this computes)."""

__version__ = "0.1.0"
