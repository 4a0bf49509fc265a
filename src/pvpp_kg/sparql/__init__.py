"""The SPARQL 1.1 Protocol: reading a request, the dataset and SERVICE rules, choosing a results format, and the
service description.

Imports the store and the shared bottom modules.
"""
