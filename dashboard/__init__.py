"""The Streamlit app's own modules: widgets and language (ui), the cached connection and queries
(data), who is signed in (session) and the one table of pages (page_table).

The only package that imports streamlit. Dependencies run one way: dashboard -> etl -> monitor and
dashboard -> monitor; neither etl nor monitor imports dashboard.
"""
