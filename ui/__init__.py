"""Streamlit layer: session state and shared widgets. Pages import from here and from core."""
