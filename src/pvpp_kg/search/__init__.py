"""Search by name: the results with facets and paging, and type-ahead suggestions, over the store's text index
(:mod:`pvpp_kg.store.textindex`). A feature beside ``lod``, ``sparql``, ``queries`` and ``validation``: it imports
the store and the bottom modules, never another feature.
"""
