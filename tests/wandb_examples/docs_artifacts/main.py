# The calls of W&B's artifact guides (docs.wandb.ai/guides/artifacts: construct-an-artifact,
# download-and-use-an-artifact, create-a-new-artifact-version), assembled into one script.
import os

import wandb

os.makedirs("dataset", exist_ok=True)
with open("dataset.h5", "wb") as f:
    f.write(b"\x89HDF")
with open("dataset/images.csv", "w") as f:
    f.write("x,y\n1,2\n")

run = wandb.init(project="artifacts-example", job_type="add-dataset")
artifact = wandb.Artifact(name="example_artifact", type="dataset")
artifact.add_file(local_path="./dataset.h5", name="training_dataset")
artifact.add_dir(local_path="dataset", name="images")
artifact.add_reference(uri="s3://my-bucket/datasets/mnist")
with artifact.new_file("hello.txt", mode="w") as f:
    f.write("hello!")
run.log_artifact(artifact, aliases=["best"])
run.finish()

run = wandb.init(project="artifacts-example", job_type="use-dataset")
artifact = run.use_artifact("example_artifact:latest")
datadir = artifact.download()
assert os.path.exists(os.path.join(datadir, "training_dataset"))
entry = artifact.get_entry("images/images.csv")
with open(entry.download()) as f:
    assert f.read().startswith("x,y")
assert run.use_artifact("example_artifact:best").version == artifact.version

model_path = "model.pt"
with open(model_path, "wb") as f:
    f.write(b"weights")
run.log_model(path=model_path, name="my-model", aliases=["production"])
local_path = run.use_model(name="my-model:production")
run.link_model(path=model_path, registered_model_name="mnist-classifier")
run.finish()
print("artifacts ok", datadir, local_path)
