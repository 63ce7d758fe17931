# From github.com/wandb/examples examples/wandb-sweeps/sweeps-python/train_lib.py at
# 5cab88702fc51edfb4afc79a1de89e9acf6cb605. The Fashion-MNIST download and the Keras model
# are replaced by a small objective of `layers` (lines marked "replaced"); the rest is unchanged.
def train():
    import numpy as np
    import wandb  # replaced: `import tensorflow as tf` dropped (no download, no Keras)
    config_defaults = {
        'layers': 128
    }
    wandb.init(config=config_defaults, magic=True)

    # replaced: the Fashion-MNIST download, the model, compile() and fit() are this objective,
    # logged as fit() would log it with magic=True.
    for epoch in range(5):  # replaced
        loss = float(np.log(wandb.config.layers)) / (epoch + 1)  # replaced
        wandb.log({'epoch': epoch, 'loss': loss, 'accuracy': 1.0 / (1.0 + loss)})  # replaced
