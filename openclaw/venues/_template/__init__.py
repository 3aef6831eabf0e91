"""A venue skeleton (not a venue): see README.md in this folder for what a venue provides."""
