"""An ONNX model written as protobuf bytes: the few messages a graph of operators and weights needs.

onnxruntime reads a model as serialized `onnx.ModelProto`; the `onnx` package
that builds one is 9 MB more to install for the ~70 lines here. The field
numbers are onnx.proto3's (stable by design: ONNX never renumbers a field):

    ModelProto        ir_version 1, graph 7, opset_import 8
    OperatorSetId     domain 1, version 2
    GraphProto        node 1, name 2, initializer 5, input 11, output 12
    NodeProto         input 1, output 2, name 3, op_type 4, attribute 5, domain 7
    AttributeProto    name 1, f 2, i 3, ints 8, type 20 (FLOAT 1, INT 2, INTS 7)
    TensorProto       dims 1, data_type 2, name 8, raw_data 9, external_data 13, data_location 14
    StringStringEntryProto  key 1, value 2
    ValueInfoProto    name 1, type 2 → TypeProto.tensor_type 1 → elem_type 1, shape 2
                      → TensorShapeProto.dim 1 → dim_value 1 | dim_param 2

tests/indexer/test_e5_int8.py and tests/test_bench_e5_int8.py check the graphs by what onnxruntime computes.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np

IR_VERSION = 8  # onnxruntime ≥ 1.10 reads it
FLOAT, UINT8, INT8, INT32, INT64 = 1, 2, 3, 6, 7  # TensorProto.DataType
_DTYPES = {np.dtype(np.float32): FLOAT, np.dtype(np.uint8): UINT8, np.dtype(np.int8): INT8, np.dtype(np.int32): INT32,
           np.dtype(np.int64): INT64}


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # a negative int64 is its two's complement, ten bytes
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes | str) -> bytes:
    """A length-delimited field (bytes, a string, an embedded message)."""
    data = payload.encode("utf-8") if isinstance(payload, str) else payload
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _int(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def tensor(name: str, array: np.ndarray) -> bytes:
    """A TensorProto holding `array` (float32, int8, int32 or int64) as raw little-endian data."""
    array = np.ascontiguousarray(array)
    dims = b"".join(_int(1, n) for n in array.shape)
    data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
    return dims + _int(2, _DTYPES[array.dtype]) + _field(8, name) + _field(9, data)


def external(name: str, array: np.ndarray) -> bytes:
    """A TensorProto of `array`'s type and shape whose data lies outside the model: the session is handed the
    array itself (onnxruntime's SessionOptions.add_external_initializers), so a memory-mapped weight is not
    copied into the model's bytes. ("location" names no file: onnxruntime reads none for a handed-in array.)"""
    dims = b"".join(_int(1, n) for n in array.shape)
    location = _field(13, _field(1, "location") + _field(2, name))
    return dims + _int(2, _DTYPES[np.dtype(array.dtype)]) + _field(8, name) + location + _int(14, 1)


def node(op_type: str, inputs: Sequence[str], outputs: Sequence[str], domain: str = "", **attributes) -> bytes:
    """A NodeProto; attributes are ints, floats or tuples of ints ("" stands for an omitted optional input)."""
    out = b"".join(_field(1, name) for name in inputs) + b"".join(_field(2, name) for name in outputs)
    out += _field(3, f"{op_type}_{outputs[0]}") + _field(4, op_type)
    for key, value in attributes.items():
        if isinstance(value, float):
            attribute = _field(1, key) + _varint(2 << 3 | 5) + struct.pack("<f", value) + _int(20, 1)
        elif isinstance(value, tuple):
            attribute = _field(1, key) + b"".join(_int(8, v) for v in value) + _int(20, 7)
        else:
            attribute = _field(1, key) + _int(3, int(value)) + _int(20, 2)
        out += _field(5, attribute)
    return out + (_field(7, domain) if domain else b"")


def value_info(name: str, elem_type: int, shape: Sequence[int | str]) -> bytes:
    """A ValueInfoProto of a tensor; a str dimension is symbolic (any size)."""
    dims = b"".join(_field(1, _field(2, d) if isinstance(d, str) else _int(1, d)) for d in shape)
    return _field(1, name) + _field(2, _field(1, _int(1, elem_type) + _field(2, dims)))


def model(nodes: Sequence[bytes], initializers: Sequence[bytes], inputs: Sequence[bytes], outputs: Sequence[bytes],
          opsets: dict[str, int]) -> bytes:
    """A serialized ModelProto of one graph."""
    graph = (b"".join(_field(1, n) for n in nodes) + _field(2, "graph")
             + b"".join(_field(5, t) for t in initializers)
             + b"".join(_field(11, v) for v in inputs) + b"".join(_field(12, v) for v in outputs))
    imports = b"".join(_field(8, (_field(1, domain) if domain else b"") + _int(2, version))
                       for domain, version in opsets.items())
    return _int(1, IR_VERSION) + _field(7, graph) + imports
