"The images the NIQE golden values are computed on: scikit-image samples and seeded degradations of them."
import cv2
import numpy as np
from skimage import data


def niqe_test_images() -> dict:
    "name → RGB uint8 image, deterministic."
    astro = data.astronaut()
    rng = np.random.default_rng(0)
    noisy = np.clip(astro.astype(np.float64) + rng.normal(0, 12, astro.shape), 0, 255).round().astype(np.uint8)
    return {"astronaut": astro,
            "astronaut_blur2": cv2.GaussianBlur(astro, (0, 0), 2.0),
            "astronaut_noise12": noisy,
            "camera": np.repeat(data.camera()[..., None], 3, axis=2),
            "coffee": data.coffee(),
            "chelsea": data.chelsea()}
