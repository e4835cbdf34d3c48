"""Reading a rights holder's reference media: only the bytes that were filed, only from
where reference media may live, and only frames that are RGB images."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from trust_safety.optout.errors import InvalidOptOut
from trust_safety.optout.facts import BlobRef, MediaKind
from trust_safety.optout.media_loader import LocalFileMediaLoader, sha256_of
from trust_safety.optout.reference_media import validate_frames


def write_image(path: Path, frame: np.ndarray) -> BlobRef:
    cv2.imwrite(str(path), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    return BlobRef(
        uri=path.as_uri(), sha256=sha256_of(path), media_type="image/png", kind=MediaKind.IMAGE
    )


def test_the_loader_reads_the_filed_bytes_and_refuses_swapped_files_and_foreign_paths(
    tmp_path: Path,
) -> None:
    picture = np.zeros((48, 64, 3), np.uint8)
    picture[:, 32:] = (250, 220, 30)
    ref = write_image(tmp_path / "a.png", picture)
    loader = LocalFileMediaLoader(root=tmp_path)
    (frame,) = loader.frames(ref)
    assert frame.shape == (48, 64, 3) and np.array_equal(frame, picture)
    (tmp_path / "a.png").write_bytes(b"not the same bytes")
    with pytest.raises(InvalidOptOut, match="sha256"):
        loader.frames(ref)
    outside = BlobRef(
        uri="file:///etc/hostname", sha256="0" * 64, media_type="image/png", kind=MediaKind.IMAGE
    )
    with pytest.raises(InvalidOptOut, match="outside"):
        loader.frames(outside)
    remote = BlobRef(
        uri="s3://bucket/a.png", sha256="0" * 64, media_type="image/png", kind=MediaKind.IMAGE
    )
    with pytest.raises(InvalidOptOut, match="file://"):
        loader.frames(remote)


@pytest.mark.parametrize(
    "frame",
    [
        np.zeros((10, 10), np.uint8),
        np.zeros((10, 10, 3), np.float32),
        np.zeros((1, 10, 3), np.uint8),
    ],
)
def test_frames_that_are_not_rgb_images_are_refused(frame: np.ndarray) -> None:
    with pytest.raises(InvalidOptOut, match="frame 1"):
        validate_frames([np.zeros((10, 10, 3), np.uint8), frame])
