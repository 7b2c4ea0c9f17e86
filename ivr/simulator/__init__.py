"""Drive the engine without a phone: terminal calls and flow conversation tests."""
