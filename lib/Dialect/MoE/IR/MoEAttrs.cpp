//===- MoEAttrs.cpp - moe attribute verifiers and parameter I/O -----------===//

#include "moe/Dialect/MoE/IR/MoE.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstdlib>

#include <cmath>

using namespace mlir;
using namespace mlir::moe;

FailureOr<llvm::APFloat> mlir::moe::parseDoubleParameter(AsmParser &parser) {
  double value;
  if (parser.parseFloat(value))
    return failure();
  return llvm::APFloat(value);
}

void mlir::moe::printDoubleParameter(AsmPrinter &printer,
                                     const llvm::APFloat &value) {
  // The shortest decimal that reads back as the same double, with a ".0"
  // kept so that it parses as a float (0.9, not 0.90000000000000002).
  double v = value.convertToDouble();
  std::string text;
  for (int precision = 1; precision <= 17; ++precision) {
    text = llvm::formatv("{0}", llvm::format("%.*g", precision, v)).str();
    if (std::strtod(text.c_str(), nullptr) == v)
      break;
  }
  // MLIR float literals need a '.' before any exponent.
  if (std::isfinite(v) && text.find('.') == std::string::npos) {
    size_t exponent = text.find('e');
    text.insert(exponent == std::string::npos ? text.size() : exponent, ".0");
  }
  printer << text;
}

LogicalResult
RoutingAttr::verify(function_ref<InFlightDiagnostic()> emitError, unsigned k,
                    ScoreFunction score, RoutingOrder order, bool renormalize,
                    APFloat scaleValue, unsigned nGroups, unsigned topGroups,
                    GroupScore groupScore, APFloat thresholdValue) {
  double scale = scaleValue.convertToDouble();
  double threshold = thresholdValue.convertToDouble();
  if (k == 0)
    return emitError() << "routing k must be at least 1";
  if (!std::isfinite(scale) || scale <= 0.0)
    return emitError() << "routing scale must be finite and positive, got "
                       << scale;
  if (nGroups == 0)
    return emitError() << "routing n_groups must be at least 1";
  if (topGroups == 0 || topGroups > nGroups)
    return emitError() << "routing top_groups must be in [1, n_groups = "
                       << nGroups << "], got " << topGroups;
  if (!(threshold >= 0.0 && threshold <= 1.0))
    return emitError() << "routing threshold must be in [0, 1] (0 disables "
                          "dynamic k), got "
                       << threshold;
  return success();
}

LogicalResult ActivationConfigAttr::verify(
    function_ref<InFlightDiagnostic()> emitError, Activation kind,
    SwigluLayout layout, APFloat alphaValue, APFloat betaValue,
    APFloat limitValue) {
  double alpha = alphaValue.convertToDouble();
  double beta = betaValue.convertToDouble();
  double limit = limitValue.convertToDouble();
  if (kind != Activation::swiglu) {
    if (layout != SwigluLayout::interleaved || alpha != 1.0 || beta != 0.0 ||
        !std::isinf(limit))
      return emitError() << "layout, alpha, beta and limit only apply to the "
                            "swiglu activation";
    return success();
  }
  if (!std::isfinite(alpha) || !std::isfinite(beta))
    return emitError() << "swiglu alpha and beta must be finite";
  if (!(limit > 0.0))
    return emitError() << "swiglu limit must be positive, got " << limit;
  return success();
}
