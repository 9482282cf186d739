"""omnijepa: the JEPA family in one library.

import omnijepa
omnijepa.list_recipes()
result = omnijepa.train("ijepa", "runs/mine", ["train.steps=200", "data.path=my_images/"])
omnijepa.evaluate("runs/mine")
omnijepa.embed("runs/mine", "features.npz")  # frozen features for your own downstream work
"""

# The sub-package omnijepa.train is imported first: importing it later (any run does) would
# rebind the name ``omnijepa.train`` from the function below to the sub-package.
import omnijepa.train  # noqa: F401  (isort: skip)
from omnijepa.api import embed, evaluate, list_recipes, repro, resume, train

__version__ = "0.1.0"
__all__ = ["embed", "evaluate", "list_recipes", "repro", "resume", "train", "__version__"]
