# -*- Python -*-
# lit configuration of the moe regression suite (check-moe).

import os

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
