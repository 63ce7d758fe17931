"""Keras 3 logging to trackui with ``TrackuiCallback``, on any backend (torch by default here).

python examples/keras_fit.py && trackui
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import trackui  # noqa: E402
from trackui.integrations.keras import TrackuiCallback  # noqa: E402

rng = np.random.default_rng(0)
labels = rng.integers(0, 3, 600)
centers = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]], dtype="float32")
points = centers[labels] + rng.normal(size=(600, 2)).astype("float32")

trackui.init(project="keras-demo", name="three-blobs", config={"batch_size": 32, "hidden": 16})
model = keras.Sequential(
    [keras.Input((2,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(3)]
)
model.compile(
    optimizer=keras.optimizers.Adam(1e-2),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
model.fit(
    points,
    labels,
    batch_size=32,
    epochs=4,
    validation_split=0.2,
    verbose=0,
    callbacks=[TrackuiCallback(log_freq=5)],
)
trackui.finish()
