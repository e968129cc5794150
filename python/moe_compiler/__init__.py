"""moe_compiler: compile ONNX Mixture-of-Experts models with moe-compile and
run the resulting shared libraries from Python.

    import moe_compiler as mc
    lib = mc.compile("model.onnx")                # -> "model.so"
    sess = mc.InferenceSession(lib)
    (y,) = sess.run(None, {"input": x, "router_probs": logits})

The session API follows onnxruntime's (`get_inputs()`, `get_outputs()`,
`run(output_names, feeds)`), so code written for onnxruntime ports over by
changing the import.
"""

from ._compile import MoECompileError, compile, find_moe_compile
from ._session import (InferenceSession, MoEInvalidArgument, MoERuntimeError,
                       NodeArg, get_num_threads, set_num_threads)

__all__ = [
    "compile", "find_moe_compile", "MoECompileError", "InferenceSession",
    "NodeArg", "MoERuntimeError", "MoEInvalidArgument", "set_num_threads",
    "get_num_threads",
]
