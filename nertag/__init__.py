"""nertag: a small, fast BiLSTM-CRF named-entity tagger.

``tag(text)`` finds entities with character offsets; ``load(model)`` gives a reusable :class:`Tagger`.
"""

from .api import load, tag
from .tagger import Entity, Tagger
from .version import __version__

__all__ = ["tag", "load", "Tagger", "Entity", "__version__"]
