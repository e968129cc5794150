"""`InferenceSession`: runs a model.so built by moe-compile through its C API
(include/moe/Runtime/MoERuntime.h) with ctypes."""

import ctypes
import json
import os
import threading
import weakref

import numpy as np

MOE_OK = 0
_STATUS = {1: "invalid argument", 2: "out of memory", 3: "internal error"}

# ONNX TensorProto code -> (numpy dtype or None, onnxruntime-style type string).
_DTYPES = {
    1: (np.dtype(np.float32), "tensor(float)"),
    2: (np.dtype(np.uint8), "tensor(uint8)"),
    3: (np.dtype(np.int8), "tensor(int8)"),
    5: (np.dtype(np.int16), "tensor(int16)"),
    6: (np.dtype(np.int32), "tensor(int32)"),
    7: (np.dtype(np.int64), "tensor(int64)"),
    9: (np.dtype(np.bool_), "tensor(bool)"),
    10: (np.dtype(np.float16), "tensor(float16)"),
    11: (np.dtype(np.float64), "tensor(double)"),
    16: (None, "tensor(bfloat16)"),  # numpy has no bfloat16
}
# bfloat16 tensors cross the API as their bit patterns in np.uint16 arrays
# (from torch: t.view(torch.int16).numpy().view(np.uint16)).
_BF16_BITS = np.dtype(np.uint16)


class MoERuntimeError(RuntimeError):
    """A call into a compiled model failed; the message is moe_last_error()."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class MoEInvalidArgument(MoERuntimeError, ValueError):
    """Bad feeds or output names (unknown/missing name, dtype, shape)."""


class NodeArg:
    """An input or output of the model, like onnxruntime.NodeArg: `name`,
    `shape` (ints for static dimensions, the symbolic name as a string or
    None for dynamic ones) and `type` ('tensor(float)', ...)."""

    def __init__(self, name, shape, type, dtype_code):
        self.name = name
        self.shape = shape
        self.type = type
        self.dtype_code = dtype_code

    @property
    def dtype(self):
        """The numpy dtype (None for bfloat16)."""
        return _DTYPES.get(self.dtype_code, (None, None))[0]

    def __repr__(self):
        return f"NodeArg(name={self.name!r}, type={self.type!r}, shape={self.shape!r})"


_i64, _i32, _p, _s = ctypes.c_int64, ctypes.c_int32, ctypes.c_void_p, ctypes.c_char_p
_PROTOS = {
    "moe_num_inputs": (_i64, []), "moe_num_outputs": (_i64, []),
    "moe_input_name": (_s, [_i64]), "moe_output_name": (_s, [_i64]),
    "moe_input_dtype": (_i32, [_i64]), "moe_output_dtype": (_i32, [_i64]),
    "moe_input_rank": (_i64, [_i64]), "moe_output_rank": (_i64, [_i64]),
    "moe_input_dim": (_i64, [_i64, _i64]), "moe_output_dim": (_i64, [_i64, _i64]),
    "moe_input_dim_param": (_s, [_i64, _i64]),
    "moe_output_dim_param": (_s, [_i64, _i64]),
    "moe_signature_json": (_s, []),
    "moe_tensor_create": (_p, [_p, ctypes.POINTER(_i64), _i64, _i32]),
    "moe_tensor_destroy": (None, [_p]),
    "moe_tensor_data": (_p, [_p]), "moe_tensor_rank": (_i64, [_p]),
    "moe_tensor_shape": (ctypes.POINTER(_i64), [_p]),
    "moe_tensor_dtype": (_i32, [_p]),
    "moe_tensor_num_elements": (_i64, [_p]),
    "moe_run": (ctypes.c_int, [ctypes.POINTER(_p), _i64, ctypes.POINTER(_p), _i64]),
    "moe_last_error": (_s, []),
    "moe_set_num_threads": (None, [_i32]),
    "moe_get_num_threads": (_i32, []),
    "moe_device_kind": (_s, []),
    "moe_set_device": (ctypes.c_int, [_i32]),
    "moe_get_device": (_i32, []),
    "moe_num_weights": (_i64, []), "moe_weight_name": (_s, [_i64]),
    "moe_weight_dtype": (_i32, [_i64]), "moe_weight_rank": (_i64, [_i64]),
    "moe_weight_dim": (_i64, [_i64, _i64]),
    "moe_weight_is_bound": (ctypes.c_int, [_i64]),
    "moe_set_weight": (ctypes.c_int, [_s, _p, _i32]),
}
MOE_WEIGHT_COPY, MOE_WEIGHT_BORROW = 0, 1
# Arrays the runtime of a loaded library borrows (set_weight(copy=False)),
# by library handle: the library outlives its sessions (ctypes never
# unloads it, and sessions of one file share its weights), so the arrays
# must too, until they are bound again.
_borrowed = {}

# Threads for every session (module-level set_num_threads); None: the
# runtime's default (one per core).
_default_threads = None
_sessions_lock = threading.Lock()
_sessions = weakref.WeakSet()


def set_num_threads(num_threads):
    """Threads used by later runs of every session, existing and future
    (<= 0: one per core)."""
    global _default_threads
    _default_threads = int(num_threads)
    with _sessions_lock:
        for s in list(_sessions):
            s.set_num_threads(_default_threads)


def get_num_threads():
    """The value last given to set_num_threads (None: runtime default)."""
    return _default_threads


def _decode(b):
    return b.decode("utf-8", "replace") if b is not None else None


class InferenceSession:
    """A compiled model (model.so from moe-compile), loaded with ctypes.

    >>> sess = InferenceSession("model.so")
    >>> [i.name for i in sess.get_inputs()]
    >>> outputs = sess.run(None, {"input": x, "router_probs": r})

    `device`: for a CUDA model (`device_kind == "cuda"`), the CUDA device
    ordinal to run on (None: $MOE_CUDA_DEVICE, else 0); a CPU model accepts
    only 0. Like the thread count, the device belongs to the loaded library:
    sessions of the same file share it. A CUDA model loads without a GPU;
    its runs then raise MoERuntimeError saying why (e.g. "CUDA driver not
    available: ...").

    `weights`: for a model compiled with `moe-compile --external-weights`,
    its weights (`get_weights()`): the path of an ONNX model whose
    initializers hold them (the .onnx it was compiled from, external data
    files included), or a dict {initializer name: array}; see
    `set_weight` and `load_weights`. Runs fail until every weight is bound.
    Like the device, the weights belong to the loaded library: sessions of
    the same file share them (copy the file for independent weights).
    bfloat16 tensors (inputs, outputs, weights) are np.uint16 arrays of
    their bit patterns.
    """

    def __init__(self, path, num_threads=None, device=None, weights=None):
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"compiled model not found: {path}")
        try:
            lib = ctypes.CDLL(os.path.abspath(path), mode=ctypes.RTLD_LOCAL)
        except OSError as e:
            raise MoERuntimeError(f"cannot load {path}: {e}") from e
        for name, (restype, argtypes) in _PROTOS.items():
            try:
                fn = getattr(lib, name)
            except AttributeError:
                raise MoERuntimeError(
                    f"{path} does not export {name}: not a library built by "
                    "moe-compile (see include/moe/Runtime/MoERuntime.h)") from None
            fn.restype, fn.argtypes = restype, argtypes
        self._lib = lib
        self._path = path
        self._inputs = self._signature("input")
        self._outputs = self._signature("output")
        self._weights = self._signature("weight")
        self._weight_index = {a.name: i for i, a in enumerate(self._weights)}
        self._input_index = {a.name: i for i, a in enumerate(self._inputs)}
        self._output_index = {a.name: i for i, a in enumerate(self._outputs)}
        threads = num_threads if num_threads is not None else _default_threads
        if threads is not None:
            self.set_num_threads(threads)
        if device is not None:
            self.set_device(device)
        if isinstance(weights, dict):
            for name, value in weights.items():
                self.set_weight(name, value)
        elif weights is not None:
            self.load_weights(weights)
        with _sessions_lock:
            _sessions.add(self)

    # --- signature ---------------------------------------------------------

    def _signature(self, kind):
        lib = self._lib
        result = []
        for i in range(getattr(lib, f"moe_num_{kind}s")()):
            name = _decode(getattr(lib, f"moe_{kind}_name")(i))
            code = getattr(lib, f"moe_{kind}_dtype")(i)
            rank = getattr(lib, f"moe_{kind}_rank")(i)
            shape = []
            for d in range(rank):
                size = getattr(lib, f"moe_{kind}_dim")(i, d)
                if size >= 0:
                    shape.append(int(size))
                else:
                    param = _decode(getattr(lib, f"moe_{kind}_dim_param")(i, d))
                    shape.append(param or None)
            type_str = _DTYPES.get(code, (None, f"tensor(onnx dtype {code})"))[1]
            result.append(NodeArg(name, shape, type_str, code))
        return result

    def get_inputs(self):
        return list(self._inputs)

    def get_outputs(self):
        return list(self._outputs)

    # --- external weights --------------------------------------------------

    def get_weights(self):
        """The external weights (NodeArgs with static shapes; empty unless
        compiled with --external-weights)."""
        return list(self._weights)

    def unbound_weights(self):
        """Names of the weights not bound yet."""
        return [a.name for i, a in enumerate(self._weights)
                if self._lib.moe_weight_is_bound(i) != 1]

    def set_weight(self, name, value, copy=True):
        """Binds external weight `name` (its ONNX initializer name) to
        `value`, an array of its dtype and shape. copy=True: the runtime
        copies the data; copy=False: it references the array's memory, which
        is kept alive (as long as the library is loaded: for the process)
        until the weight is bound again, and must not change until then (a
        CUDA model uploads it on the next run).
        MoEInvalidArgument on an unknown name or a wrong dtype or shape."""
        if name not in self._weight_index:
            raise MoEInvalidArgument(
                f"the model has no external weight {name!r}; its weights are "
                f"{[a.name for a in self._weights]}")
        arg = self._weights[self._weight_index[name]]
        array = self._weight_array(arg, value)
        lib = self._lib
        shape = (ctypes.c_int64 * max(array.ndim, 1))(*array.shape)
        t = lib.moe_tensor_create(array.ctypes.data_as(ctypes.c_void_p),
                                  shape, array.ndim, arg.dtype_code)
        if not t:
            raise MoEInvalidArgument(
                f"weight '{name}': " + self._last_error())
        try:
            status = lib.moe_set_weight(
                name.encode(), t, MOE_WEIGHT_COPY if copy else MOE_WEIGHT_BORROW)
        finally:
            lib.moe_tensor_destroy(t)
        if status != MOE_OK:
            cls = MoEInvalidArgument if status == 1 else MoERuntimeError
            raise cls(self._last_error(), status)
        with _sessions_lock:
            borrowed = _borrowed.setdefault(lib._handle, {})
            if copy:
                borrowed.pop(name, None)
            else:
                borrowed[name] = array

    def _weight_array(self, arg, value):
        dtype = _BF16_BITS if arg.dtype_code == 16 else arg.dtype
        array = np.asarray(value)
        if array.dtype != dtype:
            raise MoEInvalidArgument(
                f"weight '{arg.name}': expected {arg.type} (numpy {dtype}"
                + (", the bit patterns" if arg.dtype_code == 16 else "")
                + f"), got numpy {array.dtype}")
        if list(array.shape) != list(arg.shape):
            raise MoEInvalidArgument(
                f"weight '{arg.name}': expected shape {arg.shape}, got "
                f"{list(array.shape)}")
        return np.ascontiguousarray(array)

    def load_weights(self, onnx_path):
        """Binds every external weight from the initializers of the ONNX
        model at `onnx_path` (external data files beside it are read), as
        onnxruntime would load them. MoEInvalidArgument if one is missing."""
        import onnx
        from onnx import numpy_helper
        model = onnx.load(os.fspath(onnx_path), load_external_data=True)
        found = {}
        for tensor in model.graph.initializer:
            if tensor.name in self._weight_index:
                found[tensor.name] = tensor
        missing = [a.name for a in self._weights if a.name not in found]
        if missing:
            raise MoEInvalidArgument(
                f"{os.fspath(onnx_path)} has no initializer(s) {missing}")
        for arg in self._weights:
            tensor = found[arg.name]
            if arg.dtype_code == 16:  # bit patterns: raw bytes or int32_data
                if tensor.HasField("raw_data"):
                    array = np.frombuffer(tensor.raw_data, dtype=_BF16_BITS)
                else:
                    array = np.asarray(tensor.int32_data, dtype=_BF16_BITS)
                array = array.reshape(tuple(tensor.dims))
            else:
                array = numpy_helper.to_array(tensor)
            self.set_weight(arg.name, array, copy=True)

    @property
    def path(self):
        return self._path

    def signature_json(self):
        """moe_signature_json(), parsed."""
        return json.loads(_decode(self._lib.moe_signature_json()))

    def set_num_threads(self, num_threads):
        """Threads used by later runs of this model (<= 0: one per core)."""
        self._lib.moe_set_num_threads(int(num_threads))

    def get_num_threads(self):
        return int(self._lib.moe_get_num_threads())

    @property
    def device_kind(self):
        """Where the model runs: "cpu" or "cuda" (moe-compile's --target)."""
        return _decode(self._lib.moe_device_kind())

    @property
    def device(self):
        """The device ordinal later runs use."""
        return int(self._lib.moe_get_device())

    def set_device(self, device):
        """Runs from now on use device `device` (a CUDA device ordinal for a
        CUDA model, 0 for a CPU model); MoEInvalidArgument if it has none."""
        if isinstance(device, bool) or not isinstance(device, int):
            raise MoEInvalidArgument(
                f"device must be an int (a device ordinal), got {device!r}")
        if not -2**31 <= device < 2**31:
            raise MoEInvalidArgument(f"device {device} is out of range")
        status = self._lib.moe_set_device(device)
        if status != MOE_OK:
            cls = MoEInvalidArgument if status == 1 else MoERuntimeError
            raise cls(self._last_error(), status)

    # --- running -----------------------------------------------------------

    def _last_error(self):
        return _decode(self._lib.moe_last_error()) or "(no message)"

    def _prepare(self, arg, value):
        dtype = arg.dtype
        if arg.dtype_code == 16 and isinstance(value, np.ndarray) \
                and value.dtype == _BF16_BITS:
            dtype = _BF16_BITS
        if dtype is None:
            raise MoEInvalidArgument(
                f"input '{arg.name}': {arg.type} is not supported from Python "
                "(numpy has no such dtype)"
                + ("; pass the bit patterns as np.uint16" if arg.dtype_code == 16
                   else ""))
        if isinstance(value, np.ndarray):
            if value.dtype != dtype:
                if not np.can_cast(value.dtype, dtype, casting="safe"):
                    raise MoEInvalidArgument(
                        f"input '{arg.name}': expected {arg.type} "
                        f"(numpy {dtype}), got numpy {value.dtype}; convert it "
                        f"first, e.g. x.astype(np.{dtype.name})")
                value = value.astype(dtype)
            array = np.ascontiguousarray(value)
        else:
            try:
                array = np.ascontiguousarray(np.asarray(value, dtype=dtype))
            except (TypeError, ValueError) as e:
                raise MoEInvalidArgument(
                    f"input '{arg.name}': cannot convert {type(value).__name__} "
                    f"to {arg.type}: {e}") from None
        if array.ndim != len(arg.shape):
            raise MoEInvalidArgument(
                f"input '{arg.name}': expected rank {len(arg.shape)} "
                f"(shape {arg.shape}), got shape {list(array.shape)}")
        for d, (want, got) in enumerate(zip(arg.shape, array.shape)):
            if isinstance(want, int) and want != got:
                raise MoEInvalidArgument(
                    f"input '{arg.name}': dimension {d} must be {want} "
                    f"(shape {arg.shape}), got shape {list(array.shape)}")
        return array

    def _check_symbolic(self, arrays):
        seen = {}
        for arg, array in zip(self._inputs, arrays):
            for d, want in enumerate(arg.shape):
                if isinstance(want, str):
                    got = array.shape[d]
                    if want in seen and seen[want][0] != got:
                        other, od = seen[want][1], seen[want][2]
                        raise MoEInvalidArgument(
                            f"input '{arg.name}': dimension {d} ('{want}') is "
                            f"{got}, but '{other}' dimension {od} ('{want}') "
                            f"is {seen[want][0]}")
                    seen.setdefault(want, (got, arg.name, d))

    def run(self, output_names, input_feed, run_options=None):
        """Runs the model. `output_names`: the outputs to return, in this
        order (None: all); `input_feed`: {input name: array}. Returns a list
        of numpy arrays (copies; the runtime's tensors are freed)."""
        if not isinstance(input_feed, dict):
            raise MoEInvalidArgument(
                "input_feed must be a dict {input name: numpy array}, got "
                f"{type(input_feed).__name__}")
        unknown = [k for k in input_feed if k not in self._input_index]
        if unknown:
            raise MoEInvalidArgument(
                f"unknown input name(s) {unknown}; the model's inputs are "
                f"{[a.name for a in self._inputs]}")
        missing = [a.name for a in self._inputs if a.name not in input_feed]
        if missing:
            raise MoEInvalidArgument(
                f"missing input(s) {missing}; the model's inputs are "
                f"{[a.name for a in self._inputs]}")
        if output_names is None:
            wanted = list(range(len(self._outputs)))
        else:
            if isinstance(output_names, str):
                raise MoEInvalidArgument(
                    "output_names must be a list of names (or None), not a string")
            bad = [n for n in output_names if n not in self._output_index]
            if bad:
                raise MoEInvalidArgument(
                    f"unknown output name(s) {bad}; the model's outputs are "
                    f"{[a.name for a in self._outputs]}")
            wanted = [self._output_index[n] for n in output_names]

        arrays = [self._prepare(a, input_feed[a.name]) for a in self._inputs]
        self._check_symbolic(arrays)

        lib = self._lib
        n_in, n_out = len(arrays), len(self._outputs)
        tensors = []
        outs = (ctypes.c_void_p * max(n_out, 1))()
        try:
            for arg, array in zip(self._inputs, arrays):
                shape = (ctypes.c_int64 * max(array.ndim, 1))(*array.shape)
                t = lib.moe_tensor_create(array.ctypes.data_as(ctypes.c_void_p),
                                          shape, array.ndim, arg.dtype_code)
                if not t:
                    raise MoERuntimeError(
                        f"moe_tensor_create failed for input '{arg.name}': "
                        + self._last_error())
                tensors.append(t)
            ins = (ctypes.c_void_p * max(n_in, 1))(*tensors)
            status = lib.moe_run(ins, n_in, outs, n_out)
            if status != MOE_OK:
                cls = MoEInvalidArgument if status == 1 else MoERuntimeError
                raise cls(f"moe_run failed ({_STATUS.get(status, status)}): "
                          + self._last_error(), status)
            results = [None] * n_out
            for i in range(n_out):
                results[i] = self._copy_out(outs[i], self._outputs[i])
            return [results[i] for i in wanted]
        finally:
            for t in tensors:
                lib.moe_tensor_destroy(t)
            for i in range(n_out):
                if outs[i]:
                    lib.moe_tensor_destroy(outs[i])
                    outs[i] = None

    def _copy_out(self, t, arg):
        lib = self._lib
        if not t:
            raise MoERuntimeError(f"moe_run returned no tensor for output '{arg.name}'")
        code = lib.moe_tensor_dtype(t)
        dtype = _BF16_BITS if code == 16 else _DTYPES.get(code, (None, None))[0]
        if dtype is None:
            raise MoERuntimeError(
                f"output '{arg.name}': dtype code {code} has no numpy equivalent")
        rank = lib.moe_tensor_rank(t)
        shape_ptr = lib.moe_tensor_shape(t)
        shape = tuple(int(shape_ptr[d]) for d in range(rank))
        out = np.empty(shape, dtype=dtype)
        if out.nbytes:
            ctypes.memmove(out.ctypes.data, lib.moe_tensor_data(t), out.nbytes)
        return out

    def __repr__(self):
        return f"InferenceSession({self._path!r})"
