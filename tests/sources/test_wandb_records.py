"""The record-level reading of ``.wandb`` logs: summaries folded last first, values in bulk."""

from __future__ import annotations

import math
import random

import pytest

from trackui.store.sources import wandb_records as rec

pb = pytest.importorskip("wandb.proto.wandb_internal_pb2")


def _summary(num: int, updates: dict[str, str], removes: tuple[str, ...] = ()) -> bytes:
    r = pb.Record(num=num)
    for key, text in updates.items():
        if "/" in key:
            r.summary.update.add(nested_key=key.split("/"), value_json=text)
        else:
            r.summary.update.add(key=key, value_json=text)
    for key in removes:
        r.summary.remove.add(key=key)
    return r.SerializeToString()


def _folded(records: list[bytes], raw: dict[str, str]) -> dict[str, str]:
    layouts = rec.KeyLayouts()
    out = dict(raw)

    def parsed():  # type: ignore[no-untyped-def]
        for data in reversed(records):
            if layouts.seen(data):
                continue
            r = pb.Record()
            r.ParseFromString(data)
            yield r.summary

    rec.fold_summaries(parsed(), out)
    return out


def test_summaries_folded_last_first_equal_applied_in_order() -> None:
    rng = random.Random(3)
    keys = ["loss", "acc", "a/b", "lr", "_wandb/runtime", "_step"]
    records = []
    for n in range(300):
        chosen = rng.sample(keys, rng.randint(1, 4))
        updates = {k: repr(rng.random()) for k in chosen}
        removes = tuple(rng.sample(["acc", "lr"], rng.randint(0, 1))) if n % 7 == 0 else ()
        records.append(_summary(n, updates, removes))
    start = {"old": "1", "acc": "2"}
    expected = dict(start)
    for data in records:
        r = pb.Record()
        r.ParseFromString(data)
        rec.apply_summary(r.summary, expected)
    assert _folded(records, start) == expected


def test_a_record_with_the_keys_of_a_later_one_is_passed_over() -> None:
    records = [_summary(n, {"loss": str(n), "acc": str(n / 2)}) for n in range(5)]
    layouts = rec.KeyLayouts()
    seen = [layouts.seen(d) for d in reversed(records)]
    assert seen == [False, True, True, True, True]
    # Same keys, another one removed: another layout, read.
    assert not layouts.seen(_summary(9, {"loss": "1", "acc": "2"}, ("lr",)))
    assert _folded(records, {})["loss"] == "4"


def test_record_tag_tells_summaries_from_the_rest() -> None:
    assert rec.record_tag(_summary(5, {"a": "1"})) == rec.SUMMARY_TAG
    assert rec.record_tag(_summary(0, {"a": "1"})) == rec.SUMMARY_TAG  # (num 0 is not written)
    history = pb.Record(num=300)
    history.history.item.add(key="a", value_json="1")
    assert rec.record_tag(history.SerializeToString()) != rec.SUMMARY_TAG
    for num in (0, 1, 127, 128, 300, 2**21, 2**40):
        for data in (_summary(num, {"a": "1"}), pb.Record(num=num).SerializeToString()):
            assert rec.is_summary(data) == (rec.record_tag(data) == rec.SUMMARY_TAG), (num, data)
    assert not rec.is_summary(history.SerializeToString())


def test_values_decoded_in_bulk_equal_one_by_one() -> None:
    texts = ["1.5", "3", "NaN", "Infinity", "-Infinity", '"text, with a comma"', "true",
             '{"x": 1}', "[1, 2]", "1e400", "not json"]  # fmt: skip
    bulk = rec.decode_all(texts)
    one = [rec.decode(t) for t in texts]
    for a, b in zip(bulk, one, strict=True):
        fa, fb = {}, {}
        rec.flat_values("k", a, fa)
        rec.flat_values("k", b, fb)
        assert fa.keys() == fb.keys()
        for k in fa:
            assert fa[k] == fb[k] or (math.isnan(fa[k]) and math.isnan(fb[k]))
    assert rec.decode_all(["1.0", "2.5"]) == [1.0, 2.5]
    assert rec.decode_all([]) == []
