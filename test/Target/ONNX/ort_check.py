#!/usr/bin/env python3
"""Run an ONNX model through our importer and onnxruntime; compare outputs.

Usage (lit substitution %ort_check supplies the tool paths):
    ort_check.py --tools-dir build/bin --mlir-runner PATH --runner-libs DIR \
        MODEL [--dim NAME=VALUE ...] [--int-range LO,HI] [--seed N]
        [--rtol R] [--atol A]

MODEL is a textual (onnx.parser syntax) or binary ONNX model. Every graph
input gets fresh random data (floats in [-1, 1), integers in --int-range,
bools at random); symbolic dimensions take their --dim value (default 3).
onnxruntime is the oracle. Our side: the model is imported with
`moe-translate --import-onnx`, a `main` is appended that passes the same
inputs as constants (cast to the function's possibly dynamic argument
types, so symbolic dimensions stay dynamic) and prints every output, and
`moe-opt --moe-reference-to-llvm | mlir-runner` runs it. Prints one line per output with the max abs error and exits 1 on a
mismatch (|ours - ref| > atol + rtol * |ref|, or a shape difference).
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnx.numpy_helper
import onnx.parser
import onnxruntime as ort

# ONNX element type -> (numpy dtype, MLIR type, printMemref suffix).
ELEMENT_TYPES = {
    onnx.TensorProto.FLOAT: (np.float32, "f32", "F32"),
    onnx.TensorProto.DOUBLE: (np.float64, "f64", "F64"),
    onnx.TensorProto.INT64: (np.int64, "i64", "I64"),
    onnx.TensorProto.INT32: (np.int32, "i32", "I32"),
    onnx.TensorProto.INT8: (np.int8, "i8", "I8"),
    onnx.TensorProto.BOOL: (np.bool_, "i1", None),
    onnx.TensorProto.UINT8: (np.uint8, "ui8", None),
    onnx.TensorProto.FLOAT16: (np.float16, "f16", None),
}


def load_model(path):
    with open(path, "rb") as f:
        data = f.read()
    if data.lstrip().startswith(b"<") or data.lstrip().startswith(b"#"):
        return onnx.parser.parse_model(data.decode())
    return onnx.load_from_string(data)


def make_inputs(model, dims, int_range, rng):
    initializers = {t.name for t in model.graph.initializer}
    inputs = {}
    for vi in model.graph.input:
        if vi.name in initializers:
            continue
        tt = vi.type.tensor_type
        shape = []
        for d in tt.shape.dim:
            if d.HasField("dim_value"):
                shape.append(d.dim_value)
            else:
                shape.append(dims.get(d.dim_param, 3))
        dtype = ELEMENT_TYPES[tt.elem_type][0]
        if dtype == np.bool_:
            value = rng.random(shape) < 0.5
        elif np.issubdtype(dtype, np.integer):
            value = rng.integers(int_range[0], int_range[1], size=shape)
        else:
            value = rng.uniform(-1.0, 1.0, size=shape)
        inputs[vi.name] = np.asarray(value).astype(dtype)
    return inputs


def printable_model(model):
    """The model with printable outputs: bool, 8/16-bit integer and 16-bit
    float outputs are cast to types printMemref* can show."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    casts = {onnx.TensorProto.BOOL: onnx.TensorProto.INT32,
             onnx.TensorProto.INT8: onnx.TensorProto.INT32,
             onnx.TensorProto.INT16: onnx.TensorProto.INT32,
             onnx.TensorProto.UINT8: onnx.TensorProto.INT32,
             onnx.TensorProto.FLOAT16: onnx.TensorProto.FLOAT,
             onnx.TensorProto.BFLOAT16: onnx.TensorProto.FLOAT}
    for out in m.graph.output:
        to = casts.get(out.type.tensor_type.elem_type)
        if to is None:
            continue
        cast_name = out.name + "__printable"
        m.graph.node.append(onnx.helper.make_node(
            "Cast", [out.name], [cast_name], to=to))
        out.name = cast_name
        out.type.tensor_type.elem_type = to
    return m


def mlir_constant(value):
    """An MLIR dense literal of `value` with its static type."""
    mlir_type = {np.dtype(v[0]): v[1] for v in ELEMENT_TYPES.values()}[value.dtype]
    shape = "x".join(str(d) for d in value.shape)
    tensor_type = f"tensor<{shape + 'x' if shape else ''}{mlir_type}>"
    if value.dtype == np.bool_:
        body = "[" + ", ".join("true" if v else "false" for v in value.reshape(-1)) + "]"
        if value.ndim != 1:
            sys.exit("bool inputs must be 1-D")
    else:
        body = '"0x' + np.ascontiguousarray(value).astype(value.dtype.newbyteorder("<")).tobytes().hex().upper() + '"'
    return f"dense<{body}>", tensor_type


def wrapper_main(ir, inputs):
    """A `main` that calls @main_graph on constant inputs and prints every
    result."""
    header = re.search(r"func\.func @main_graph\((.*?)\)\s*->\s*(.*?)\s*\{\n", ir)
    arg_types = re.findall(r"%arg\d+: (tensor<[^>]*>)", header.group(1))
    result_types = re.findall(r"tensor<[^>]*>", header.group(2))
    body = ["  func.func private @printMemrefF32(memref<*xf32>)",
            "  func.func private @printMemrefF64(memref<*xf64>)",
            "  func.func private @printMemrefI64(memref<*xi64>)",
            "  func.func private @printMemrefI32(memref<*xi32>)",
            "  func.func @main() {"]
    args = []
    for i, (value, arg_type) in enumerate(zip(inputs.values(), arg_types)):
        literal, static_type = mlir_constant(value)
        body.append(f"    %in{i} = arith.constant {literal} : {static_type}")
        body.append(f"    %a{i} = tensor.cast %in{i} : {static_type} to {arg_type}")
        args.append(f"%a{i}")
    results = ", ".join(f"%r{i}" for i in range(len(result_types)))
    body.append(f"    {results} = call @main_graph({', '.join(args)}) : "
                f"({', '.join(arg_types)}) -> ({', '.join(result_types)})")
    for i, t in enumerate(result_types):
        elem = t[:-1].split("x")[-1].replace("tensor<", "")
        suffix = {"f32": "F32", "f64": "F64", "i64": "I64", "i32": "I32"}[elem]
        body.append(f"    %u{i} = tensor.cast %r{i} : {t} to tensor<*x{elem}>")
        body.append(f"    %m{i} = bufferization.to_buffer %u{i} : "
                    f"tensor<*x{elem}> to memref<*x{elem}>")
        body.append(f"    call @printMemref{suffix}(%m{i}) : "
                    f"(memref<*x{elem}>) -> ()")
    body += ["    return", "  }"]
    return body


def run_ours(model, inputs, args):
    """Returns (shape, flat float64 array) per graph output."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.onnx")
        onnx.save(model, path)
        translate = os.path.join(args.tools_dir, "moe-translate")
        imported = subprocess.run(
            [translate, "--import-onnx", path],
            capture_output=True, text=True)
        if imported.returncode != 0:
            sys.exit("import failed:\n" + imported.stderr)
        # Insert `main` before the module's closing brace (the first line
        # that is exactly "}"; resources follow it).
        lines = imported.stdout.splitlines()
        end = lines.index("}")
        ir = "\n".join(lines[:end] + wrapper_main(imported.stdout, inputs) +
                       lines[end:]) + "\n"
        opt = subprocess.run(
            [os.path.join(args.tools_dir, "moe-opt"), "--moe-reference-to-llvm"],
            input=ir, capture_output=True, text=True)
        if opt.returncode != 0:
            sys.exit("lowering failed:\n" + opt.stderr[-4000:])
        libs = ",".join(os.path.join(args.runner_libs, lib) for lib in
                        ("libmlir_c_runner_utils.so", "libmlir_runner_utils.so"))
        run = subprocess.run(
            [args.mlir_runner, "-e", "main", "-entry-point-result=void",
             "-shared-libs=" + libs],
            input=opt.stdout, capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit("execution failed:\n" + run.stderr[-4000:])
    outputs = []
    for chunk in run.stdout.split("Unranked Memref")[1:]:
        sizes = re.search(r"sizes = \[([^\]]*)\]", chunk).group(1)
        shape = [int(s) for s in sizes.split(",") if s.strip()]
        data = chunk.split("data =", 1)[1]
        numbers = re.findall(r"-?(?:nan|inf|\d+(?:\.\d*)?(?:e[-+]?\d+)?)", data)
        outputs.append((shape, np.array([float(n) for n in numbers])))
    return outputs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--tools-dir", required=True)
    parser.add_argument("--mlir-runner", required=True)
    parser.add_argument("--runner-libs", required=True)
    parser.add_argument("--dim", action="append", default=[],
                        help="NAME=VALUE for a symbolic dimension")
    parser.add_argument("--int-range", default="0,4")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--rtol", type=float, default=1e-5)
    parser.add_argument("--atol", type=float, default=1e-6)
    args = parser.parse_args()

    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    rng = np.random.default_rng(seed)
    dims = {k: int(v) for k, v in (d.split("=") for d in args.dim)}
    int_range = [int(x) for x in args.int_range.split(",")]

    model = load_model(args.model)
    inputs = make_inputs(model, dims, int_range, rng)
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    expected = session.run(None, inputs)
    ours = run_ours(printable_model(model), inputs, args)

    ok = True
    names = [o.name for o in model.graph.output]
    if len(ours) != len(expected):
        print(f"FAIL: {len(ours)} outputs printed, onnxruntime has {len(expected)}")
        sys.exit(1)
    for name, ref, (shape, got) in zip(names, expected, ours):
        ref = np.asarray(ref)
        if list(ref.shape) != shape:
            print(f"FAIL {name}: shape {shape}, onnxruntime {list(ref.shape)}")
            ok = False
            continue
        ref64 = ref.astype(np.float64).reshape(-1)
        err = np.abs(got - ref64)
        bad = ~(err <= args.atol + args.rtol * np.abs(ref64))
        bad &= ~(np.isnan(got) & np.isnan(ref64))
        max_err = float(np.nanmax(err)) if err.size else 0.0
        status = "FAIL" if bad.any() else "OK"
        print(f"{status} {name}: shape {shape} max_abs_err={max_err:.3g}")
        ok &= not bad.any()
    if not ok:
        print(f"seed={seed} (rerun with --seed {seed})")
        sys.exit(1)


if __name__ == "__main__":
    main()
