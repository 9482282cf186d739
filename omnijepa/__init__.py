"""omnijepa: the JEPA family in one library.

import omnijepa
omnijepa.list_recipes()
result = omnijepa.train("ijepa", "runs/mine", ["train.steps=200", "data.path=my_images/"])
omnijepa.evaluate("runs/mine")
"""

from omnijepa.api import evaluate, list_recipes, repro, resume, train

__version__ = "0.1.0"
__all__ = ["evaluate", "list_recipes", "repro", "resume", "train", "__version__"]
