# From github.com/wandb/examples examples/wandb-sweeps/sweeps-boolean-parameters/train-bool.py at 5cab88702fc51edfb4afc79a1de89e9acf6cb605, unchanged.
import argparse

import wandb

parser = argparse.ArgumentParser()
parser.add_argument("--optimizer", default=None, type=str)
parser.add_argument("--flag1", default=False, type=lambda s: s.lower() == 'true')
parser.add_argument("--flag2", default=True, type=lambda s: s.lower() == 'true')

args = parser.parse_args()

run = wandb.init(config=args)
run.log(dict(metric=1.0))
