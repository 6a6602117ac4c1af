"""Analysis core of the PDAC liver-metastasis outcomes explorer.

Plain Python, no Streamlit: everything an analyst could call from a notebook lives here.
"""
