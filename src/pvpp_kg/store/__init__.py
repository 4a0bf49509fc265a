"""The store: the embedded pyoxigraph store and the remote endpoint behind one backend, the query process, loading
and materialising the project's sources and datasets, and data versions.

Imports the shared bottom modules and :mod:`pvpp_kg.policy` (whose CSVs it loads); never a feature package.
"""
