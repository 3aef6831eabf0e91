"""The hot path: typed Cython over preallocated numpy buffers. Imports nothing of the shell."""
