# -*- Python -*-
# lit configuration of the moe regression suite (check-moe).

import os
import subprocess

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "MOE"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".onnxtxt", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.moe_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "unit",
                   "Inputs"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%mlir_lib_dir", config.mlir_lib_dir))
config.substitutions.append(("%moe_src_root", config.moe_src_root))
config.substitutions.append(("%moe_obj_root", config.moe_obj_root))
config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%moe_tools_dir", config.moe_tools_dir))
# %ort_check MODEL [options]: our import + reference lowering vs onnxruntime.
config.substitutions.append(("%ort_check", " ".join([
    config.python_executable,
    os.path.join(config.moe_src_root, "test", "Target", "ONNX", "ort_check.py"),
    "--tools-dir", config.moe_tools_dir,
    "--mlir-runner", os.path.join(config.llvm_tools_dir, "mlir-runner"),
    "--runner-libs", config.mlir_lib_dir])))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()
# FileCheck, not and count live beside the LLVM tools.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.moe_tools_dir, config.llvm_tools_dir]
tools = ["moe-opt", "moe-translate",
         ToolSubst("moe-compile", unresolved="ignore"),
         ToolSubst("moe-run", unresolved="ignore"),
         ToolSubst("mlir-runner", unresolved="ignore"),
         ToolSubst("lli", unresolved="ignore")]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# CUDA. `cuda-toolkit`: ptxas is there, so CUDA models can be compiled.
# `cuda-device`: a driver and a GPU are usable, so they can run (probed in a
# child process: lit itself never initialises CUDA). `moe-cuda-runtime`: this
# build has the CUDA runtime (MOE_ENABLE_CUDA), so the stand-in driver and
# fake CUDA model of test/Runtime exist.
cuda_root = os.environ.get("CUDA_HOME") or "/usr/local/cuda"
if os.path.isfile(os.path.join(cuda_root, "bin", "ptxas")):
    config.available_features.add("cuda-toolkit")
_cuda_probe = (
    "import ctypes, sys\n"
    "try:\n"
    "    cuda = ctypes.CDLL('libcuda.so.1')\n"
    "except OSError:\n"
    "    sys.exit(1)\n"
    "count = ctypes.c_int(0)\n"
    "ok = cuda.cuInit(0) == 0 and cuda.cuDeviceGetCount(ctypes.byref(count)) == 0\n"
    "sys.exit(0 if ok and count.value > 0 else 1)\n")
try:
    if subprocess.run([config.python_executable, "-c", _cuda_probe],
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                      timeout=120).returncode == 0:
        config.available_features.add("cuda-device")
except (OSError, subprocess.TimeoutExpired):
    pass
if getattr(config, "moe_enable_cuda", False):
    config.available_features.add("moe-cuda-runtime")

# cuobjdump lists the kernels of CUDA artifacts: the toolkit's, or NVIDIA's
# PyPI wheel (scripts/setup.sh installs it for the Python lit tests use).
try:
    _cuobjdump = subprocess.run(
        [config.python_executable,
         os.path.join(config.moe_src_root, "scripts", "find_cuobjdump.py")],
        capture_output=True, text=True, timeout=60).stdout.strip()
except (OSError, subprocess.TimeoutExpired):
    _cuobjdump = ""
if _cuobjdump:
    config.available_features.add("cuobjdump")
    config.substitutions.append(("%cuobjdump", _cuobjdump))
    # `cuobjdump -sass` needs nvdisasm: the toolkit's, or the wheel's beside
    # the wheel's cuobjdump (scripts/setup.sh installs both).
    if os.access(os.path.join(os.path.dirname(_cuobjdump), "nvdisasm"), os.X_OK):
        config.available_features.add("cuobjdump-sass")
