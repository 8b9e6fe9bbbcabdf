"""End-to-end tests: a running packyard driven by real clients."""
