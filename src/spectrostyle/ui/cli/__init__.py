"""The command-line interface: `spectrostyle COMMAND ...` (click), a thin layer over the Python API."""
