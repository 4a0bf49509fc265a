"""Tests of pvpp_kg.web: the pages in a browser and the routers' rules."""
