"""NetSuite stand-in: OAuth 2.0 and SuiteQL."""
