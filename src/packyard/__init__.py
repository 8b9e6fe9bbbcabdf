"""packyard: a private Python package index."""
