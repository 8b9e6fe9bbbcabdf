"""Pure domain: no I/O, standard library and `packaging` only."""
