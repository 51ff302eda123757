"""ONNX export: ``autograd_nn.onnx.export(model, args, "model.onnx")``, as ``torch.onnx.export``.

The exporter traces the recorded forward graph of ``model(*args)`` and writes each op
through its converter: one declaration per op class in ``CONVERTERS`` (see
``register_converter``), or, for a fused op without one, the primitives of the
``decomposition=`` it declares. Composites need nothing (they record their primitives).
Parameters and buffers become initialisers named by their ``state_dict`` keys, so the
file says which weight is which. Needs the ``onnx`` extra (``pip install
autograd-nn[onnx]``, which brings ``onnx`` and ``onnxruntime``); importing this module
does not.

For example (``tests/interop/`` runs this and much more against ONNX Runtime)::

    model = nn.Sequential(nn.Linear(3, 2), nn.Tanh())
    proto = onnx.export(model, np.ones((4, 3)), "model.onnx", dynamic_axes={"input": {0: "batch"}})
    [node.op_type for node in proto.graph.node]      # ['Gemm', 'Tanh']
    [i.name for i in proto.graph.initializer]        # ['0.weight', '0.bias']
"""

from __future__ import annotations

from . import _elementwise, _indexing, _math, _structure, _windows  # noqa: F401 - the converters of the core's ops
from ._call import OpCall
from ._export import DEFAULT_OPSET, UnsupportedOperatorError, export
from ._graph import OnnxGraph
from ._registry import CONVERTERS, register_converter
from ._trace import ExportError

__all__ = [
    "CONVERTERS", "DEFAULT_OPSET", "ExportError", "OnnxGraph", "OpCall", "UnsupportedOperatorError", "export",
    "register_converter",
]  # fmt: skip
