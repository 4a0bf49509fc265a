"""The policy's own logic as plain functions: the institutions registry, the responsibility matrix read from its
CSV, and the synthetic dataset generator.

Imports only the shared bottom modules: nothing here reads a store or speaks HTTP.
"""
