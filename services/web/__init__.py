"""The staff pages: German, server-rendered, accessible (see ``services/web/base.py``)."""
