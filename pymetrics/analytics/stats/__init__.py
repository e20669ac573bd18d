"""The arithmetic of the analytics views: pure numpy, no Django, tested on arrays."""
