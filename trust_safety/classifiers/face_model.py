"""The face model's fixed facts: what an embedding is, and how close is the same person.

Kept apart from ``faces.py`` (which loads numpy and dlib) so that settings and other light
modules can read them without importing the models; the CLI reads every settings section at
start-up.
"""

from __future__ import annotations

from collections.abc import Mapping

EMBEDDING_DIM = 128
# dlib's documented operating point for its ResNet embedding; bench/likeness.py measures the
# true- and false-accept rates at it on the photos in tests/data/faces.
MATCH_DISTANCE = 0.6

# The identity embedding every template, gallery entry and face match is computed with.
EMBEDDING_MODEL = "dlib_face_recognition_resnet_model_v1"


def embedding_version(model_versions: Mapping[str, str]) -> str:
    """The version an embedding is stored under: the network and the package that ships its
    weights (``<model>/<package>``)."""
    return f"{model_versions['embedding']}/{model_versions['models_package']}"


def embedding_model(version: str) -> str:
    """The network a stored version names. Embeddings of one network are compared whatever
    package shipped its weights; embeddings of different networks never are."""
    return version.split("/", 1)[0]
