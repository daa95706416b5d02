import importlib

import numpy  # noqa: F401

pytest_plugins = ["pytester"]

# pytester's in-process runs unload the modules a run imported; numpy's (and scipy's) C
# extensions cannot be loaded twice per process, so load the checking stack here, once.
for _name in ("scipy", "gradcheck.checking.gradient", "gradcheck.layers", "gradcheck.report"):
    try:
        importlib.import_module(_name)
    except ImportError:  # another helper's module not written yet
        pass
