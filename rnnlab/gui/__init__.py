"""The desktop app (the only package that imports Qt and pyqtgraph).

Importing ``rnnlab.gui`` itself loads no Qt; the submodules do.
"""
