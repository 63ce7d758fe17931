"""The CUDA path: the captured graph makes the eager step's update; async readback.

Skipped where there is no CUDA device (CI); run on a GPU machine.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

from trackui.store import reader  # noqa: E402
from trackui.trainer.data import DeviceData  # noqa: E402
from trackui.trainer.engine import Readback, Stepper, make_optimizer, set_lr  # noqa: E402
from trackui.trainer.model import Net  # noqa: E402
from trackui.trainer.train import main  # noqa: E402


@pytest.fixture
def exact_float32(monkeypatch: pytest.MonkeyPatch) -> None:
    """Float32 matrix products and convolutions without TF32, and deterministic ones.

    The padded last batch runs at another shape than the eager one; with
    TF32 the two would differ by a thousandth, not by rounding.
    """
    monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", True)
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)


@pytest.mark.usefixtures("exact_float32")
@pytest.mark.parametrize(("arch", "optimizer"), [("mlp", "adam"), ("cnn", "adam"), ("cnn", "sgd")])
def test_graph_replay_matches_the_eager_step(arch: str, optimizer: str) -> None:
    # Adam, the trainer's optimiser, with a new learning rate between the
    # epochs (which the graph must read, not keep from its capture); plain
    # SGD too, whose update is the gradient's scale, so that the convolutions'
    # captured backward is checked without Adam's division by the gradient's size.
    dev = torch.device("cuda")
    g = torch.Generator().manual_seed(0)
    x = torch.randn(150, 1, 28, 28, generator=g).to(dev)
    y = torch.randint(0, 10, (150,), generator=g).to(dev)
    data = DeviceData(x, y, x[:50], y[:50])
    torch.manual_seed(0)
    a = Net(arch).to(dev)
    b = Net(arch).to(dev)
    b.load_state_dict(a.state_dict())
    if arch == "cnn":
        a.eval()  # no dropout: the two paths draw random numbers differently
        b.eval()

    def opt(net: torch.nn.Module) -> torch.optim.Optimizer:
        if optimizer == "sgd":
            return torch.optim.SGD(net.parameters(), lr=0.05)
        return make_optimizer(net, 1e-3, dev)

    graphed = Stepper(a, opt(a), data, 64, cuda_graph=True)
    eager = Stepper(b, opt(b), data, 64, cuda_graph=False)
    assert graphed.uses_graph, graphed.graph_error
    assert not eager.uses_graph
    perm = torch.randperm(150, generator=torch.Generator().manual_seed(1)).to(dev)
    for epoch in range(2):  # two epochs: 64, 64, 22 each (the last one padded in the graph)
        if epoch and optimizer == "adam":
            set_lr(graphed.optimizer, 3e-4)
            set_lr(eager.optimizer, 3e-4)
        for lo in range(0, 150, 64):
            graphed.step(perm[lo : lo + 64])
            eager.step(perm[lo : lo + 64])
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        diff = (pa - pb).abs().max().item()
        assert torch.allclose(pa, pb, atol=1e-5, rtol=1e-4), f"max difference {diff:.3g}"
    sg, se = graphed.take_epoch(), eager.take_epoch()
    assert sg.samples == se.samples == 300
    assert abs(sg.loss - se.loss) < 1e-4
    assert sg.accuracy == se.accuracy


def test_a_new_learning_rate_reaches_the_replayed_graph() -> None:
    dev = torch.device("cuda")
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 1, 28, 28, generator=g).to(dev)
    y = torch.randint(0, 10, (64,), generator=g).to(dev)
    net = Net("mlp").to(dev)
    stepper = Stepper(net, make_optimizer(net, 1e-3, dev), DeviceData(x, y, x, y), 64)
    assert stepper.uses_graph, stepper.graph_error
    idx = torch.arange(64, device=dev)
    set_lr(stepper.optimizer, 0.0)
    before = [p.detach().clone() for p in net.parameters()]
    stepper.step(idx)
    assert all(torch.equal(p, q) for p, q in zip(net.parameters(), before, strict=True))
    set_lr(stepper.optimizer, 1e-2)
    stepper.step(idx)
    assert not any(torch.equal(p, q) for p, q in zip(net.parameters(), before, strict=True))


def test_readback_returns_every_value_in_order() -> None:
    dev = torch.device("cuda")
    rb = Readback(dev, depth=4)
    for i in range(10):
        rb.push(i, 2, torch.full((), float(i), device=dev))
    got = rb.ready(wait=False)  # may return some already; never more than are done
    got += rb.ready(wait=True)
    assert got == [(i, i / 2) for i in range(10)]


def test_short_run_on_cuda_uses_the_graph(tmp_path: Path, mnist: Path) -> None:
    argv = [
        "--data-dir",
        str(mnist),
        "--dir",
        str(tmp_path),
        "--train-limit",
        "5000",
        "--epochs",
        "2",
    ]
    assert main([*argv, "--device", "cuda", "--system-every", "0.01"], out=io.StringIO()) == 0
    (run_dir,) = reader.list_run_dirs(tmp_path)
    info = reader.read_run(run_dir)
    assert info is not None
    assert info.config["cuda_graph"] is True
    records, _, _ = reader.read_records(run_dir)
    merged = reader.merge_steps(records)
    assert any("system/gpu/torch_allocated_mb" in m for m in merged.values())
    val = [m["val_accuracy"] for m in merged.values() if "val_accuracy" in m]
    assert val[-1] > 0.85
