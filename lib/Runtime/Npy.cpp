//===- Npy.cpp - reading and writing NumPy .npy files ----------------------===//
//
// The format: "\x93NUMPY", major, minor, a little-endian header length (2
// bytes in version 1, 4 bytes in versions 2 and 3), then a Python dict
// literal such as {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
// padded with spaces and a newline, then the raw data.
//
//===----------------------------------------------------------------------===//

#include "Npy.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

using namespace moe::npy;

namespace {

struct DtypeEntry {
  const char *code; // descr without the byte-order character
  int32_t dtype;
  int64_t size;
  const char *name;
};

const DtypeEntry kDtypes[] = {
    {"f4", 1, 4, "float32"}, {"f8", 11, 8, "float64"},
    {"f2", 10, 2, "float16"}, {"i8", 7, 8, "int64"},
    {"i4", 6, 4, "int32"},   {"i2", 5, 2, "int16"},
    {"i1", 3, 1, "int8"},    {"u1", 2, 1, "uint8"},
    {"b1", 9, 1, "bool"},
};

const DtypeEntry *findDtype(int32_t dtype) {
  for (const DtypeEntry &e : kDtypes)
    if (e.dtype == dtype)
      return &e;
  return nullptr;
}

/// A cursor over the header dict.
struct HeaderParser {
  const std::string &text;
  size_t pos = 0;

  void skipSpace() {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos])))
      ++pos;
  }
  bool consume(char c) {
    skipSpace();
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  bool parseString(std::string &out) {
    skipSpace();
    if (pos >= text.size() || (text[pos] != '\'' && text[pos] != '"'))
      return false;
    char quote = text[pos++];
    size_t end = text.find(quote, pos);
    if (end == std::string::npos)
      return false;
    out = text.substr(pos, end - pos);
    pos = end + 1;
    return true;
  }
  bool parseWord(std::string &out) {
    skipSpace();
    size_t start = pos;
    while (pos < text.size() && std::isalnum(static_cast<unsigned char>(text[pos])))
      ++pos;
    out = text.substr(start, pos - start);
    return !out.empty();
  }
  bool parseInt(int64_t &out) {
    skipSpace();
    size_t start = pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])))
      ++pos;
    if (start == pos || pos - start > 18)
      return false;
    out = std::stoll(text.substr(start, pos - start));
    // Python may write 3L on old versions.
    if (pos < text.size() && text[pos] == 'L')
      ++pos;
    return true;
  }
};

bool fail(std::string &error, std::string message) {
  error = std::move(message);
  return false;
}

} // namespace

int64_t Array::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

int64_t moe::npy::elementSize(int32_t dtype) {
  const DtypeEntry *e = findDtype(dtype);
  return e ? e->size : 0;
}

std::string moe::npy::dtypeName(int32_t dtype) {
  if (const DtypeEntry *e = findDtype(dtype))
    return e->name;
  if (dtype == 16)
    return "bfloat16";
  return "dtype " + std::to_string(dtype);
}

bool moe::npy::parse(const char *bytes, size_t size, Array &array,
                     std::string &error) {
  static const char kMagic[] = "\x93NUMPY";
  if (size < 10 || std::memcmp(bytes, kMagic, 6) != 0)
    return fail(error, "not a .npy file (bad magic)");
  unsigned major = static_cast<unsigned char>(bytes[6]);
  size_t headerLen, headerStart;
  if (major == 1) {
    headerLen = size_t(static_cast<unsigned char>(bytes[8])) |
                size_t(static_cast<unsigned char>(bytes[9])) << 8;
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12)
      return fail(error, "truncated .npy file (incomplete header)");
    headerLen = 0;
    for (int i = 3; i >= 0; --i)
      headerLen = headerLen << 8 | static_cast<unsigned char>(bytes[8 + i]);
    headerStart = 12;
  } else {
    return fail(error, "unsupported .npy format version " +
                           std::to_string(major) + "." +
                           std::to_string(static_cast<unsigned char>(bytes[7])));
  }
  if (headerLen > size - headerStart)
    return fail(error, "truncated .npy file (incomplete header)");
  std::string header(bytes + headerStart, headerLen);

  // Parse {'key': value, ...} for the three known keys.
  HeaderParser p{header};
  std::string descr;
  bool haveDescr = false, haveOrder = false, haveShape = false;
  bool fortran = false;
  std::vector<int64_t> shape;
  if (!p.consume('{'))
    return fail(error, "malformed .npy header: " + header);
  while (!p.consume('}')) {
    std::string key;
    if (!p.parseString(key) || !p.consume(':'))
      return fail(error, "malformed .npy header: " + header);
    if (key == "descr") {
      if (!p.parseString(descr))
        return fail(error, "unsupported .npy dtype (structured arrays are not "
                           "supported): " + header);
      haveDescr = true;
    } else if (key == "fortran_order") {
      std::string word;
      if (!p.parseWord(word) || (word != "True" && word != "False"))
        return fail(error, "malformed .npy header: " + header);
      fortran = word == "True";
      haveOrder = true;
    } else if (key == "shape") {
      if (!p.consume('('))
        return fail(error, "malformed .npy header: " + header);
      while (!p.consume(')')) {
        int64_t dim;
        if (!p.parseInt(dim))
          return fail(error, "malformed .npy shape: " + header);
        shape.push_back(dim);
        if (!p.consume(',')) {
          if (!p.consume(')'))
            return fail(error, "malformed .npy shape: " + header);
          break;
        }
      }
      haveShape = true;
    } else {
      return fail(error, "unexpected key '" + key + "' in .npy header");
    }
    if (!p.consume(',')) {
      if (!p.consume('}'))
        return fail(error, "malformed .npy header: " + header);
      break;
    }
  }
  if (!haveDescr || !haveOrder || !haveShape)
    return fail(error, "malformed .npy header (needs descr, fortran_order "
                       "and shape): " + header);
  if (fortran)
    return fail(error, "Fortran-order .npy arrays are not supported; save a "
                       "C-order array (numpy.ascontiguousarray)");
  if (descr.size() < 2)
    return fail(error, "unsupported .npy dtype '" + descr + "'");
  char order = descr[0];
  std::string code = descr.substr(1);
  const DtypeEntry *entry = nullptr;
  for (const DtypeEntry &e : kDtypes)
    if (code == e.code)
      entry = &e;
  if (!entry)
    return fail(error, "unsupported .npy dtype '" + descr +
                           "' (supported: <f4 <f8 <f2 <i8 <i4 <i2 |i1 |u1 "
                           "|b1)");
  if (entry->size > 1 && order == '>')
    return fail(error, "big-endian .npy data ('" + descr +
                           "') is not supported; save it little-endian "
                           "(arr.astype(arr.dtype.newbyteorder('<')))");
  if (entry->size > 1 && order != '<' && order != '=')
    return fail(error, "unsupported .npy dtype '" + descr + "'");
  if (entry->size == 1 && order != '|' && order != '<' && order != '>' &&
      order != '=')
    return fail(error, "unsupported .npy dtype '" + descr + "'");

  int64_t count = 1;
  for (int64_t d : shape) {
    if (d != 0 && count > (INT64_MAX / 16) / d)
      return fail(error, "the .npy shape is too large");
    count *= d;
  }
  int64_t numBytes = count * entry->size;
  size_t dataStart = headerStart + headerLen;
  if (uint64_t(numBytes) > size - dataStart)
    return fail(error, "truncated .npy file: expected " +
                           std::to_string(numBytes) + " bytes of data, found " +
                           std::to_string(size - dataStart));

  size_t allocBytes = (size_t(numBytes) + 63) / 64 * 64;
  if (allocBytes == 0)
    allocBytes = 64;
  char *buffer = static_cast<char *>(std::aligned_alloc(64, allocBytes));
  if (!buffer)
    return fail(error, "out of memory reading .npy data");
  std::memcpy(buffer, bytes + dataStart, size_t(numBytes));
  array.dtype = entry->dtype;
  array.shape = std::move(shape);
  array.data.reset(buffer);
  array.numBytes = numBytes;
  return true;
}

bool moe::npy::read(const std::string &path, Array &array,
                    std::string &error) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return fail(error, "cannot open '" + path + "': " + std::strerror(errno));
  std::vector<char> bytes;
  char chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), f)) > 0)
    bytes.insert(bytes.end(), chunk, chunk + n);
  bool readError = std::ferror(f);
  std::fclose(f);
  if (readError)
    return fail(error, "cannot read '" + path + "'");
  if (!parse(bytes.data(), bytes.size(), array, error)) {
    error = "'" + path + "': " + error;
    return false;
  }
  return true;
}

bool moe::npy::write(const std::string &path, int32_t dtype,
                     const int64_t *shape, int64_t rank, const void *data,
                     std::string &error) {
  const DtypeEntry *entry = findDtype(dtype);
  if (!entry)
    return fail(error, "cannot write " + dtypeName(dtype) + " to .npy");
  std::string dict = std::string("{'descr': '") +
                     (entry->size == 1 ? '|' : '<') + entry->code +
                     "', 'fortran_order': False, 'shape': (";
  int64_t count = 1;
  for (int64_t d = 0; d < rank; ++d) {
    dict += std::to_string(shape[d]);
    if (rank == 1 || d + 1 < rank)
      dict += ",";
    if (d + 1 < rank)
      dict += " ";
    count *= shape[d];
  }
  dict += "), }";
  // Pad so that the data starts at a multiple of 64; end with a newline.
  size_t prefix = 10;
  size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  bool v2 = total - prefix > 65535;
  if (v2) {
    prefix = 12;
    total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  }
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict += '\n';

  std::string head("\x93NUMPY", 6);
  head += char(v2 ? 2 : 1);
  head += char(0);
  uint32_t len = uint32_t(dict.size());
  head += char(len & 0xff);
  head += char((len >> 8) & 0xff);
  if (v2) {
    head += char((len >> 16) & 0xff);
    head += char((len >> 24) & 0xff);
  }
  head += dict;

  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return fail(error, "cannot write '" + path + "': " + std::strerror(errno));
  size_t numBytes = size_t(count * entry->size);
  bool ok = std::fwrite(head.data(), 1, head.size(), f) == head.size() &&
            (numBytes == 0 || std::fwrite(data, 1, numBytes, f) == numBytes);
  ok = (std::fclose(f) == 0) && ok;
  if (!ok)
    return fail(error, "error writing '" + path + "'");
  return true;
}
