"""Sample vehicle images for the sandbox, generated offline.

Each class has its own scene (sky, road, water ...) and a silhouette drawn with noise, so the
classes differ visibly and a small classifier can learn them. `true_class` recovers the class
from the pixels alone; the sandbox workforce uses it instead of any hidden answer key.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass

CLASSES: tuple[str, ...] = ("Airplane", "Car", "Ferry", "Helicopter", "Motorbike")

# (sky/top colour, ground/bottom colour, object colour) per class
_PALETTE: dict[str, tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]] = {
    "Airplane": ((110, 170, 235), (150, 195, 240), (235, 235, 240)),
    "Car": ((170, 190, 205), (85, 85, 90), (200, 40, 40)),
    "Ferry": ((160, 200, 230), (30, 80, 150), (245, 245, 235)),
    "Helicopter": ((200, 150, 90), (120, 160, 80), (40, 60, 40)),
    "Motorbike": ((215, 215, 200), (120, 95, 70), (25, 25, 30)),
}


@dataclass(frozen=True)
class SampleImage:
    key: str  # file name, e.g. image_0007.jpg
    label: str
    data: bytes


def render(label: str, seed: int, size: int = 96) -> bytes:
    """A JPEG of one class; deterministic for (label, seed)."""
    import numpy as np
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    top, bottom, obj = _PALETTE[label]
    horizon = int(size * rng.uniform(0.55, 0.7))
    arr = np.zeros((size, size, 3), dtype=np.float32)
    arr[:horizon] = top
    arr[horizon:] = bottom
    arr += rng.normal(0, 9, arr.shape)
    img = Image.fromarray(np.clip(arr, 0, 255).astype("uint8"))
    d = ImageDraw.Draw(img)
    cx = int(size * rng.uniform(0.35, 0.65))
    cy = int(size * rng.uniform(0.35, 0.6))
    s = int(size * rng.uniform(0.18, 0.26))
    if label == "Airplane":
        d.rectangle([cx - 2 * s, cy - s // 5, cx + 2 * s, cy + s // 5], fill=obj)  # fuselage
        d.polygon([(cx - s // 3, cy), (cx + s // 3, cy), (cx, cy - s)], fill=obj)  # wing
        d.polygon([(cx - s // 3, cy), (cx + s // 3, cy), (cx, cy + s)], fill=obj)
    elif label == "Car":
        y = horizon + 2
        d.rectangle([cx - 2 * s, y - s, cx + 2 * s, y], fill=obj)
        d.rectangle([cx - s, y - 2 * s + 4, cx + s, y - s], fill=obj)
        for wx in (cx - s - 2, cx + s + 2):
            d.ellipse([wx - s // 2, y - s // 3, wx + s // 2, y + s // 2], fill=(20, 20, 20))
    elif label == "Ferry":
        y = horizon + 4
        d.polygon([(cx - 2 * s, y - s // 2), (cx + 2 * s, y - s // 2), (cx + int(1.5 * s), y + s // 2),
                   (cx - int(1.5 * s), y + s // 2)], fill=obj)  # fmt: skip
        d.rectangle([cx - s, y - int(1.3 * s), cx + s // 2, y - s // 2], fill=obj)
        d.rectangle([cx - s // 4, y - 2 * s, cx + s // 6, y - int(1.3 * s)], fill=(200, 40, 40))
    elif label == "Helicopter":
        d.ellipse([cx - s, cy - s // 2, cx + s, cy + s // 2], fill=obj)
        d.rectangle([cx + s - 2, cy - 3, cx + 2 * s, cy + 3], fill=obj)  # tail
        d.rectangle([cx - 2 * s, cy - s // 2 - 5, cx + 2 * s, cy - s // 2 - 3], fill=obj)  # rotor
    else:  # Motorbike
        y = horizon + 2
        for wx in (cx - s, cx + s):
            d.ellipse([wx - s // 2, y - s // 2, wx + s // 2, y + s // 2], outline=obj, width=4)
        d.line([(cx - s, y), (cx, y - s // 2), (cx + s, y)], fill=obj, width=4)
        d.line([(cx, y - s // 2), (cx + s // 2, y - s)], fill=obj, width=3)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=88)
    return buf.getvalue()


@functools.lru_cache(maxsize=4)
def sample_set(per_class: int = 10, seed: int = 101) -> list[SampleImage]:
    """`per_class` images of each class, interleaved so file names give nothing away."""
    import numpy as np

    rng = np.random.default_rng(seed)
    pairs = [(label, i) for label in CLASSES for i in range(per_class)]
    order = rng.permutation(len(pairs))
    out = []
    for n, idx in enumerate(order, start=1):
        label, i = pairs[int(idx)]
        out.append(
            SampleImage(
                f"image_{n:04d}.jpg", label, render(label, seed * 1000 + CLASSES.index(label) * 100 + i)
            )
        )
    return out


def features(data: bytes) -> list[float]:
    """A small colour-layout feature vector (mean RGB of a 3x3 grid, 27 values), used by the
    sandbox workforce and to derive the tabular XGBoost dataset from labeled images."""
    import numpy as np
    from PIL import Image

    img = Image.open(io.BytesIO(data)).convert("RGB").resize((48, 48))
    arr = np.asarray(img, dtype=np.float32) / 255.0
    out: list[float] = []
    for gy in range(3):
        for gx in range(3):
            cell = arr[gy * 16 : (gy + 1) * 16, gx * 16 : (gx + 1) * 16]
            out.extend(float(v) for v in cell.reshape(-1, 3).mean(axis=0))
    return out


def true_class(data: bytes) -> str:
    """The class whose scene colours best explain the image (top and bottom bands)."""
    import numpy as np
    from PIL import Image

    img = Image.open(io.BytesIO(data)).convert("RGB").resize((32, 32))
    arr = np.asarray(img, dtype=np.float32)
    top = np.median(arr[:6].reshape(-1, 3), axis=0)
    bottom = np.median(arr[-5:].reshape(-1, 3), axis=0)
    best, best_d = CLASSES[0], float("inf")
    for label, (t, b, _) in _PALETTE.items():
        dist = float(np.sum((top - t) ** 2) + np.sum((bottom - b) ** 2))
        if dist < best_d:
            best, best_d = label, dist
    return best
