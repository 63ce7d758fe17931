"""Runs written by other trackers (TensorBoard, wandb, MLflow, trackio), read into the store."""
