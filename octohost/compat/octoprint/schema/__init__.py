"""``octoprint.schema``: the pydantic base model plugins describe their settings with."""

from pydantic import BaseModel  # noqa: F401
