"""The training step: the same update as the tutorial loop, padded batches, readback, progress."""

from __future__ import annotations

import io
import math
from types import ModuleType

import pytest

torch = pytest.importorskip("torch")

from trackui.trainer.data import DeviceData  # noqa: E402
from trackui.trainer.engine import (  # noqa: E402
    Readback,
    ShuffleOrder,
    Stepper,
    evaluate,
    make_optimizer,
    set_lr,
)
from trackui.trainer.model import Net, masked_cross_entropy  # noqa: E402
from trackui.trainer.sysmetrics import SystemMetrics  # noqa: E402
from trackui.trainer.train import Progress  # noqa: E402

CPU = torch.device("cpu")


def _fake_data(n: int = 200, seed: int = 0) -> DeviceData:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    return DeviceData(x, y, x[:50], y[:50])


def test_net_shapes_match_the_reference_network(reference: ModuleType) -> None:
    ours = [tuple(p.shape) for p in Net("mlp").parameters()]
    theirs = [tuple(p.shape) for p in reference.build_model().parameters()]
    assert ours == theirs == [(128, 784), (128,), (10, 128), (10,)]
    assert Net("cnn")(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    with pytest.raises(ValueError, match="unknown arch"):
        Net("resnet")


def test_stepper_makes_the_tutorial_update(reference: ModuleType) -> None:
    data = _fake_data(150)
    torch.manual_seed(3)
    net = Net("mlp")
    ref = reference.build_model()
    ref.load_state_dict({k.removeprefix("layers."): v for k, v in net.state_dict().items()})
    stepper = Stepper(net, make_optimizer(net, 1e-3, CPU), data, 64)
    ref_opt = torch.optim.Adam(ref.parameters(), lr=1e-3)
    crit = torch.nn.CrossEntropyLoss()
    perm = torch.randperm(150, generator=torch.Generator().manual_seed(5))
    ref_loss_sum = 0.0
    ref_correct = 0
    for lo in range(0, 150, 64):  # 64, 64, then the short batch of 22
        idx = perm[lo : lo + 64]
        stepper.step(idx)
        xb, yb = data.x_train[idx], data.y_train[idx]
        ref_opt.zero_grad()
        out = ref(xb)
        loss = crit(out, yb)
        loss.backward()
        ref_opt.step()
        ref_loss_sum += loss.item() * len(idx)
        ref_correct += int((out.argmax(1) == yb).sum())
    for a, b in zip(net.parameters(), ref.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-6)
    stats = stepper.take_epoch()
    assert stats.samples == 150
    assert math.isclose(stats.loss, ref_loss_sum / 150, rel_tol=1e-5)
    assert math.isclose(stats.accuracy, ref_correct / 150)
    assert stepper.take_epoch().samples == 0  # restarted


def test_padded_batch_with_zero_weights_gives_the_unpadded_update() -> None:
    # The CUDA graph runs the last short batch padded to the full size with
    # weight-0 rows; on the CPU the same body must give the same update. Plain
    # SGD, whose update is the gradient's scale: Adam divides by the gradient's
    # size and so turns last-bit differences in near-zero gradients (the two
    # shapes sum in different orders over many threads) into visible ones.
    data = _fake_data(100)
    torch.manual_seed(0)
    a, b = Net("mlp"), Net("mlp")
    b.load_state_dict(a.state_dict())
    sa = Stepper(a, torch.optim.SGD(a.parameters(), lr=1e-2), data, 32)
    sb = Stepper(b, torch.optim.SGD(b.parameters(), lr=1e-2), data, 32)
    idx = torch.arange(10, 30)  # 20 real rows
    sa.step(idx)
    padded = torch.cat([idx, torch.zeros(12, dtype=torch.long)])
    weight = torch.cat([torch.ones(20), torch.zeros(12)])
    sb.optimizer.zero_grad(set_to_none=True)
    sb._body(padded, weight)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.allclose(pa, pb, atol=1e-6)
    assert torch.allclose(sa.loss_sum, sb.loss_sum, atol=1e-5)
    assert torch.equal(sa.correct, sb.correct)


def test_masked_cross_entropy_equals_the_plain_mean() -> None:
    logits = torch.randn(8, 10)
    target = torch.randint(0, 10, (8,))
    plain = torch.nn.functional.cross_entropy(logits, target)
    assert torch.allclose(masked_cross_entropy(logits, target, None), plain)
    assert torch.allclose(masked_cross_entropy(logits, target, torch.ones(8)), plain)


def test_interval_readback_on_cpu() -> None:
    data = _fake_data(128)
    net = Net("mlp")
    stepper = Stepper(net, make_optimizer(net, 1e-3, CPU), data, 32)
    rb = Readback(CPU)
    for i in range(4):
        stepper.step(torch.arange(i * 32, (i + 1) * 32))
    total, count = stepper.take_interval()
    assert count == 4
    rb.push(4, count, total)
    assert stepper.interval_loss.item() == 0.0
    (step, mean), *rest = rb.ready()
    assert rest == [] and step == 4
    assert math.isclose(mean, total.item() / 4, rel_tol=1e-6)
    assert 1.5 < mean < 4.0  # around ln(10) for an untrained net
    assert rb.ready(wait=True) == []


def test_evaluate_reads_loss_and_accuracy() -> None:
    x = torch.randn(30, 1, 28, 28)
    net = Net("mlp")
    with torch.no_grad():
        y = net(x).argmax(1)
    loss, acc = evaluate(net, x, y, 7)
    assert acc == 1.0
    assert loss > 0
    assert net.training  # restored


def test_system_metrics_on_cpu_at_a_bounded_interval() -> None:
    now = [100.0]
    sm = SystemMetrics(CPU, interval_s=2.0, clock=lambda: now[0])
    first = sm.maybe_sample()
    assert first["system/proc/rss_mb"] > 10
    assert "system/proc/cpu_percent" in first
    assert not any(k.startswith("system/gpu") for k in first)
    now[0] += 1.0
    assert sm.maybe_sample() == {}
    now[0] += 1.5
    assert "system/proc/rss_mb" in sm.maybe_sample()


def test_progress_draws_a_bar_only_on_a_terminal() -> None:
    out = io.StringIO()
    p = Progress(out, epochs=2, steps_per_epoch=100, tty=False)
    for i in range(100):
        p.update(1, i + 1, 0.5)
    p.line("epoch 1/2 done")
    assert out.getvalue() == "epoch 1/2 done\n"

    tty = io.StringIO()
    p = Progress(tty, epochs=2, steps_per_epoch=100, tty=True, min_interval_s=3600)
    for i in range(100):
        p.update(1, i + 1, 0.5)
    p.line("epoch 1/2 done")
    text = tty.getvalue()
    # The first draw and the last (100/100) only: the interval holds the rest back.
    assert text.count("\r\x1b[2Kepoch 1/2 [") == 2
    assert "100/100 loss 0.5000" in text
    assert text.endswith("\r\x1b[2Kepoch 1/2 done\n")


class _ReplayOnCpu:
    """Stands in for a captured CUDA graph (there is no GPU here).

    A replay re-runs the captured body on the static index and weight buffers,
    with the gradients written afresh, which is what the captured graph does.
    """

    def __init__(self, stepper: Stepper) -> None:
        self.stepper = stepper
        self.replays = 0

    def replay(self) -> None:
        s = self.stepper
        assert s._idx is not None and s._w is not None
        s.optimizer.zero_grad(set_to_none=True)
        s._body(s._idx, s._w)
        self.replays += 1


def test_graph_path_pads_the_short_batch_and_restores_the_weights() -> None:
    data = _fake_data(150)
    torch.manual_seed(2)
    a, b = Net("mlp"), Net("mlp")
    b.load_state_dict(a.state_dict())
    graphed = Stepper(a, make_optimizer(a, 1e-3, CPU), data, 64)
    graphed._idx = torch.zeros(64, dtype=torch.long)
    graphed._w = torch.ones(64)
    fake = _ReplayOnCpu(graphed)
    graphed.graph = fake  # type: ignore[assignment]
    eager = Stepper(b, make_optimizer(b, 1e-3, CPU), data, 64)
    gen = torch.Generator().manual_seed(4)
    for _ in range(2):  # the second epoch starts right after a padded batch
        perm = torch.randperm(150, generator=gen)
        for lo in range(0, 150, 64):
            graphed.step(perm[lo : lo + 64])
            eager.step(perm[lo : lo + 64])
        assert torch.equal(graphed._w, torch.ones(64))
    assert fake.replays == 6
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.allclose(pa, pb, atol=1e-6)
    sg, se = graphed.take_epoch(), eager.take_epoch()
    assert sg.samples == se.samples == 300
    assert math.isclose(sg.loss, se.loss, rel_tol=1e-5)
    assert sg.accuracy == se.accuracy


def test_shuffle_order_is_the_dataloader_order(reference: ModuleType) -> None:
    from torch.utils.data import DataLoader, TensorDataset

    def tutorial() -> list[torch.Tensor]:
        torch.manual_seed(7)
        reference.build_model()
        train = DataLoader(TensorDataset(torch.arange(300)), batch_size=64, shuffle=True)
        val = DataLoader(TensorDataset(torch.arange(50)), batch_size=20)
        orders = []
        for _ in range(3):
            orders.append(torch.cat([b for (b,) in train]))
            for _ in val:
                pass
        return orders

    def trainer() -> list[torch.Tensor]:
        torch.manual_seed(7)
        Net("mlp")
        order = ShuffleOrder()
        orders = []
        for _ in range(3):
            orders.append(order.epoch(300))
            order.validation()
        return orders

    got, want = trainer(), tutorial()
    assert all(torch.equal(a, b) for a, b in zip(got, want, strict=True))
    assert not torch.equal(got[0], got[1])  # reshuffled each epoch


def test_set_lr_changes_every_group_float_or_tensor() -> None:
    net = Net("mlp")
    opt = make_optimizer(net, 1e-3, CPU)
    set_lr(opt, 2.5e-4)
    assert [g["lr"] for g in opt.param_groups] == [2.5e-4]
    lr_t = torch.tensor(1e-3)
    opt_t = torch.optim.Adam(net.parameters(), lr=lr_t)
    set_lr(opt_t, 5e-4)
    assert opt_t.param_groups[0]["lr"] is lr_t  # in place: a captured graph holds its address
    assert lr_t.item() == pytest.approx(5e-4)
