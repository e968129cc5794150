#!/usr/bin/env python3
"""Run a model.so built by moe-compile through its C API (MoERuntime.h) with
ctypes and compare every output with onnxruntime on the same random inputs.

Usage:
    run_with_ctypes.py MODEL.so MODEL.onnx[txt] [--dim NAME=VALUE ...]
        [--seed N] [--int-range LO,HI] [--rtol R] [--atol A]
        [--expect-signature JSON]

Inputs are generated from the signature the library reports (floats in
[-1, 1), integers in --int-range, random bools); symbolic dimensions take
their --dim value (default 3). Also checks that the signature matches the
ONNX graph, that moe_signature_json() parses, and that moe_run refuses a
tensor of the wrong dtype and of the wrong rank with a message. Prints one
line per output and exits 1 on any mismatch.
"""

import argparse
import ctypes
import json
import sys

import numpy as np
import onnx
import onnx.parser
import onnxruntime as ort

# ONNX TensorProto code -> numpy dtype (bool is one byte per element).
DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 5: np.int16, 6: np.int32,
          7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64}

MOE_OK = 0
MOE_ERROR_INVALID_ARGUMENT = 1


def load_model(path):
    with open(path, "rb") as f:
        data = f.read()
    if data.lstrip().startswith((b"<", b"#")):
        return onnx.parser.parse_model(data.decode())
    return onnx.load_from_string(data)


def bind(lib):
    """Declares the MoERuntime.h prototypes on `lib`."""
    i64, i32, p, s = ctypes.c_int64, ctypes.c_int32, ctypes.c_void_p, ctypes.c_char_p
    protos = {
        "moe_num_inputs": (i64, []), "moe_num_outputs": (i64, []),
        "moe_input_name": (s, [i64]), "moe_output_name": (s, [i64]),
        "moe_input_dtype": (i32, [i64]), "moe_output_dtype": (i32, [i64]),
        "moe_input_rank": (i64, [i64]), "moe_output_rank": (i64, [i64]),
        "moe_input_dim": (i64, [i64, i64]), "moe_output_dim": (i64, [i64, i64]),
        "moe_input_dim_param": (s, [i64, i64]),
        "moe_output_dim_param": (s, [i64, i64]),
        "moe_signature_json": (s, []),
        "moe_tensor_create": (p, [p, ctypes.POINTER(i64), i64, i32]),
        "moe_tensor_destroy": (None, [p]),
        "moe_tensor_data": (p, [p]), "moe_tensor_rank": (i64, [p]),
        "moe_tensor_shape": (ctypes.POINTER(i64), [p]),
        "moe_tensor_dtype": (i32, [p]),
        "moe_run": (ctypes.c_int, [ctypes.POINTER(p), i64, ctypes.POINTER(p), i64]),
        "moe_last_error": (s, []),
    }
    for name, (restype, argtypes) in protos.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes


def signature(lib, kind):
    count = getattr(lib, f"moe_num_{kind}s")()
    result = []
    for i in range(count):
        rank = getattr(lib, f"moe_{kind}_rank")(i)
        result.append({
            "name": getattr(lib, f"moe_{kind}_name")(i).decode(),
            "dtype": getattr(lib, f"moe_{kind}_dtype")(i),
            "dims": [getattr(lib, f"moe_{kind}_dim")(i, d) for d in range(rank)],
            "params": [getattr(lib, f"moe_{kind}_dim_param")(i, d).decode()
                       for d in range(rank)],
        })
    return result


def check_against_onnx(sig, values):
    """The library's signature must be the ONNX graph's."""
    errors = []
    if [s["name"] for s in sig] != [v.name for v in values]:
        errors.append(f"names {[s['name'] for s in sig]} != "
                      f"{[v.name for v in values]}")
        return errors
    for s, v in zip(sig, values):
        tt = v.type.tensor_type
        if s["dtype"] != tt.elem_type:
            errors.append(f"{s['name']}: dtype {s['dtype']} != {tt.elem_type}")
        onnx_dims = [d.dim_value if d.HasField("dim_value") else -1
                     for d in tt.shape.dim]
        onnx_params = [d.dim_param for d in tt.shape.dim]
        if s["dims"] != onnx_dims:
            errors.append(f"{s['name']}: dims {s['dims']} != {onnx_dims}")
        if s["params"] != onnx_params:
            errors.append(f"{s['name']}: dim params {s['params']} != "
                          f"{onnx_params}")
    return errors


def make_tensor(lib, array, dtype_code):
    shape = (ctypes.c_int64 * max(array.ndim, 1))(*array.shape)
    return lib.moe_tensor_create(array.ctypes.data_as(ctypes.c_void_p), shape,
                                 array.ndim, dtype_code)


def run(lib, arrays, codes, num_outputs):
    """moe_run on `arrays`; returns (status, list of output arrays)."""
    tensors = [make_tensor(lib, a, c) for a, c in zip(arrays, codes)]
    if any(t is None for t in tensors):
        raise RuntimeError("moe_tensor_create failed: "
                           + lib.moe_last_error().decode())
    ins = (ctypes.c_void_p * max(len(tensors), 1))(*tensors)
    outs = (ctypes.c_void_p * max(num_outputs, 1))()
    status = lib.moe_run(ins, len(tensors), outs, num_outputs)
    results = []
    if status == MOE_OK:
        for i in range(num_outputs):
            t = outs[i]
            rank = lib.moe_tensor_rank(t)
            shape = tuple(lib.moe_tensor_shape(t)[d] for d in range(rank))
            dtype = np.dtype(DTYPES[lib.moe_tensor_dtype(t)])
            size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            raw = ctypes.string_at(lib.moe_tensor_data(t), size) if size else b""
            results.append(np.frombuffer(raw, dtype=dtype).reshape(shape).copy())
            lib.moe_tensor_destroy(t)
    for t in tensors:
        lib.moe_tensor_destroy(t)
    return status, results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("library")
    parser.add_argument("model")
    parser.add_argument("--dim", action="append", default=[])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--int-range", default="0,4")
    parser.add_argument("--rtol", type=float, default=1e-4)
    parser.add_argument("--atol", type=float, default=1e-5)
    args = parser.parse_args()
    dims = {k: int(v) for k, v in (d.split("=", 1) for d in args.dim)}
    lo, hi = (int(x) for x in args.int_range.split(","))
    rng = np.random.default_rng(args.seed)

    lib = ctypes.CDLL(args.library, mode=ctypes.RTLD_LOCAL)
    bind(lib)
    model = load_model(args.model)
    initializers = {t.name for t in model.graph.initializer}
    graph_inputs = [v for v in model.graph.input if v.name not in initializers]
    inputs, outputs = signature(lib, "input"), signature(lib, "output")
    errors = (check_against_onnx(inputs, graph_inputs)
              + check_against_onnx(outputs, model.graph.output))
    parsed = json.loads(lib.moe_signature_json().decode())
    if [i["name"] for i in parsed["inputs"]] != [i["name"] for i in inputs]:
        errors.append("moe_signature_json() disagrees with moe_input_name()")
    for e in errors:
        print("signature:", e)
    if errors:
        return 1

    feeds = {}
    for s in inputs:
        shape = [d if d >= 0 else dims.get(p, 3)
                 for d, p in zip(s["dims"], s["params"])]
        dtype = DTYPES[s["dtype"]]
        if dtype == np.bool_:
            value = rng.random(shape) < 0.5
        elif np.issubdtype(dtype, np.integer):
            value = rng.integers(lo, hi, size=shape)
        else:
            value = rng.uniform(-1.0, 1.0, size=shape)
        feeds[s["name"]] = np.ascontiguousarray(np.asarray(value).astype(dtype))
    arrays = [feeds[s["name"]] for s in inputs]
    codes = [s["dtype"] for s in inputs]

    status, ours = run(lib, arrays, codes, len(outputs))
    if status != MOE_OK:
        print(f"moe_run failed ({status}): {lib.moe_last_error().decode()}")
        return 1
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    refs = session.run([o["name"] for o in outputs], feeds)
    failed = bool(errors)
    for o, got, ref in zip(outputs, ours, refs):
        if got.shape != ref.shape or got.dtype != ref.dtype:
            print(f"{o['name']}: got {got.dtype}{list(got.shape)}, "
                  f"expected {ref.dtype}{list(ref.shape)}")
            failed = True
            continue
        g, r = got.astype(np.float64), ref.astype(np.float64)
        err = float(np.max(np.abs(g - r))) if g.size else 0.0
        ok = bool(np.all(np.abs(g - r) <= args.atol + args.rtol * np.abs(r)))
        print(f"{o['name']}: shape {list(got.shape)} max abs err {err:.3g} "
              f"{'ok' if ok else 'MISMATCH'}")
        failed |= not ok

    # Bad inputs are refused with a message, never a crash.
    if arrays:
        wrong = 11 if codes[0] != 11 else 1
        bad = arrays[0].astype(DTYPES[wrong])
        status, _ = run(lib, [bad] + arrays[1:], [wrong] + codes[1:],
                        len(outputs))
        message = lib.moe_last_error().decode()
        print(f"wrong dtype: status {status}: {message}")
        failed |= status != MOE_ERROR_INVALID_ARGUMENT or not message
        bad = arrays[0].reshape(arrays[0].shape + (1,))
        status, _ = run(lib, [bad] + arrays[1:], codes, len(outputs))
        message = lib.moe_last_error().decode()
        print(f"wrong rank: status {status}: {message}")
        failed |= status != MOE_ERROR_INVALID_ARGUMENT or not message
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
