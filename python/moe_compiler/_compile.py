"""`compile()`: runs the moe-compile executable on an ONNX model."""

import os
import pathlib
import shutil
import subprocess

_EMIT_SUFFIX = {"lib": ".so", "obj": ".o", "mlir": ".mlir", "llvm": ".ll"}
_TARGETS = ("cpu", "cuda")


class MoECompileError(RuntimeError):
    """moe-compile failed (or could not be found); the message carries its
    stderr."""

    def __init__(self, message, returncode=None, stderr=""):
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


def _repo_build_dirs():
    # python/moe_compiler/_compile.py -> the repository root, when the package
    # is used from a source checkout (PYTHONPATH=python or `pip install -e .`).
    root = pathlib.Path(__file__).resolve().parent.parent.parent
    return [root / "build" / "bin"]


def find_moe_compile(moe_compile=None):
    """The moe-compile executable: `moe_compile` if given, else $MOE_COMPILE,
    else `moe-compile` on PATH, else the source checkout's build/bin."""
    tried = []
    if moe_compile is not None:
        candidates = [("argument moe_compile", str(moe_compile))]
    else:
        candidates = []
        if os.environ.get("MOE_COMPILE"):
            candidates.append(("$MOE_COMPILE", os.environ["MOE_COMPILE"]))
        on_path = shutil.which("moe-compile")
        if on_path:
            candidates.append(("PATH", on_path))
        for d in _repo_build_dirs():
            candidates.append(("the repository's build/bin", str(d / "moe-compile")))
    for origin, path in candidates:
        resolved = shutil.which(path) if os.sep not in path else path
        if resolved and os.path.isfile(resolved) and os.access(resolved, os.X_OK):
            return resolved
        tried.append(f"{path} (from {origin})")
    if moe_compile is None and not os.environ.get("MOE_COMPILE"):
        tried.insert(0, "$MOE_COMPILE (unset)")
        tried.insert(1, "moe-compile on PATH (not found)")
    raise MoECompileError(
        "moe-compile not found; tried: " + "; ".join(tried)
        + ". Build it (scripts/build.sh) or pass moe_compile=/path/to/moe-compile"
        " or set MOE_COMPILE.")


def compile(model_path, output_path=None, *, target="cpu", emit="lib",
            moe_compile=None, extra_args=(), timeout=None,
            external_weights=False):
    """Compiles `model_path` (an ONNX model) with moe-compile.

    `external_weights=True` (moe-compile --external-weights): the library
    embeds no data of the large initializers; bind them when loading it
    (`InferenceSession(path, weights=model_path)`).

    Returns the path of the output: `output_path`, or the model's path with
    the suffix of `emit` (.so for "lib", .o for "obj", .mlir, .ll). Raises
    MoECompileError with moe-compile's stderr when it fails.
    """
    if emit not in _EMIT_SUFFIX:
        raise ValueError(f"emit must be one of {sorted(_EMIT_SUFFIX)}, got {emit!r}")
    if target not in _TARGETS:
        raise ValueError(f"target must be one of {list(_TARGETS)}, got {target!r}")
    model_path = os.fspath(model_path)
    if not os.path.isfile(model_path):
        raise FileNotFoundError(f"ONNX model not found: {model_path}")
    if output_path is None:
        output_path = str(pathlib.Path(model_path).with_suffix(_EMIT_SUFFIX[emit]))
    output_path = os.fspath(output_path)
    exe = find_moe_compile(moe_compile)
    cmd = [exe, model_path, "-o", output_path, f"--target={target}",
           f"--emit={emit}",
           *(["--external-weights"] if external_weights else []), *extra_args]
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise MoECompileError(f"moe-compile timed out after {timeout} s: "
                              + " ".join(cmd)) from e
    if proc.returncode != 0:
        stderr = proc.stderr.strip()
        raise MoECompileError(
            f"moe-compile failed (exit {proc.returncode}) on {model_path}:\n"
            f"{stderr or '(no message on stderr)'}",
            returncode=proc.returncode, stderr=proc.stderr)
    if not os.path.exists(output_path):
        raise MoECompileError(f"moe-compile succeeded but wrote no {output_path}")
    return output_path
