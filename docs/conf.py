"""Sphinx configuration: autodoc + napoleon (the docstrings are numpy-style and use
Sphinx roles such as :func:), MyST for the Markdown pages. docs/build.sh builds it.

autodoc imports the *installed* autorec_fast (the compiled extension is not in the
source tree): install the package first, ``pip install '.[docs]'``.
"""

import autorec_fast

project = "autorec_fast"
author = "autorec_fast contributors"
release = autorec_fast.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]

# numpy-style sections (Parameters, Returns, Raises, Attributes, Notes, ...)
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_class_signature = "separated"

myst_heading_anchors = 3
html_theme = "alabaster"
html_title = f"autorec_fast {release}"
