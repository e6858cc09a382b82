#include "args.h"

#include <climits>
#include <cmath>

#include "errors.h"

namespace overseer {

namespace {

std::string TypeName(Napi::Value value) {
  switch (value.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "boolean";
    case napi_number: return "number";
    case napi_string: return "string";
    case napi_symbol: return "symbol";
    case napi_object: return "object";
    case napi_function: return "function";
    case napi_external: return "external";
    case napi_bigint: return "bigint";
  }
  return "unknown";
}

// "Received ..." in the style of Node's ERR_INVALID_ARG_TYPE messages.
std::string Describe(Napi::Value value) {
  switch (value.Type()) {
    case napi_undefined: return "Received undefined";
    case napi_null: return "Received null";
    case napi_number:
    case napi_boolean:
    case napi_bigint:
      return "Received type " + TypeName(value) + " (" + value.ToString().Utf8Value() + ")";
    case napi_string: {
      std::string s = value.As<Napi::String>().Utf8Value();
      if (s.size() > 28) s = s.substr(0, 25) + "...";
      return "Received type string ('" + s + "')";
    }
    case napi_function: return "Received function";
    case napi_object: return value.IsArray() ? "Received an instance of Array" : "Received an instance of Object";
    default: return "Received type " + TypeName(value);
  }
}

[[noreturn]] void ThrowType(Napi::Value value, const char* name, const char* expected) {
  throw TypeErrorWithCode(value.Env(), "ERR_INVALID_ARG_TYPE",
                          std::string("The \"") + name + "\" argument must be " + expected + ". " +
                              Describe(value));
}

}  // namespace


[[noreturn]] void ThrowInvalidValue(Napi::Value value, const char* name, const std::string& reason) {
  throw TypeErrorWithCode(value.Env(), "ERR_INVALID_ARG_VALUE",
                          std::string("The argument '") + name + "' " + reason + ". " + Describe(value));
}

[[noreturn]] void ThrowOutOfRange(Napi::Value value, const char* name, const std::string& range) {
  std::string received = value.IsNumber() ? value.ToString().Utf8Value() : Describe(value);
  throw RangeErrorWithCode(value.Env(), "ERR_OUT_OF_RANGE",
                           std::string("The value of \"") + name + "\" is out of range. It must be " +
                               range + ". Received " + received);
}

int64_t ToInteger(Napi::Value value, const char* name, int64_t min, int64_t max) {
  if (!value.IsNumber()) ThrowType(value, name, "of type number");
  double d = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::trunc(d) != d) ThrowOutOfRange(value, name, "an integer");
  if (d < static_cast<double>(min) || d > static_cast<double>(max)) {
    ThrowOutOfRange(value, name, ">= " + std::to_string(min) + " && <= " + std::to_string(max));
  }
  return static_cast<int64_t>(d);
}

int ToFd(Napi::Value value, const char* name) {
  return static_cast<int>(ToInteger(value, name, 0, INT32_MAX));
}

int ToTimeoutMs(Napi::Value value, const char* name) {
  return static_cast<int>(ToInteger(value, name, 0, INT32_MAX));
}

bool ToBool(Napi::Value value, const char* name) {
  if (!value.IsBoolean()) ThrowType(value, name, "of type boolean");
  return value.As<Napi::Boolean>().Value();
}

std::string ToString(Napi::Value value, const char* name) {
  if (!value.IsString()) ThrowType(value, name, "of type string");
  return value.As<Napi::String>().Utf8Value();
}

std::string ToPath(Napi::Value value, const char* name) {
  std::string s = ToString(value, name);
  if (s.empty()) ThrowInvalidValue(value, name, "must be a non-empty string");
  if (s.find('\0') != std::string::npos) {
    ThrowInvalidValue(value, name, "must be a string without null bytes");
  }
  return s;
}

Napi::Object ToObject(Napi::Value value, const char* name) {
  if (!value.IsObject() || value.IsArray() || value.IsFunction()) ThrowType(value, name, "of type object");
  return value.As<Napi::Object>();
}

std::vector<uint8_t> CopyBytes(Napi::Value value, const char* name) {
  const uint8_t* data = nullptr;
  size_t length = 0;
  if (value.IsTypedArray()) {
    Napi::TypedArray view = value.As<Napi::TypedArray>();
    Napi::ArrayBuffer buffer = view.ArrayBuffer();
    data = static_cast<const uint8_t*>(buffer.Data()) + view.ByteOffset();
    length = view.ByteLength();
  } else if (value.IsDataView()) {
    Napi::DataView view = value.As<Napi::DataView>();
    Napi::ArrayBuffer buffer = view.ArrayBuffer();
    data = static_cast<const uint8_t*>(buffer.Data()) + view.ByteOffset();
    length = view.ByteLength();
  } else {
    ThrowType(value, name, "an instance of Buffer, TypedArray, or DataView");
  }
  if (length == 0 || data == nullptr) return {};
  return std::vector<uint8_t>(data, data + length);
}

std::vector<int> ToFdArray(Napi::Value value, const char* name, size_t maxLength) {
  if (!value.IsArray()) ThrowType(value, name, "an instance of Array");
  Napi::Array array = value.As<Napi::Array>();
  uint32_t length = array.Length();
  if (length > maxLength) {
    throw RangeErrorWithCode(value.Env(), "ERR_OUT_OF_RANGE",
                             std::string("The value of \"") + name + ".length\" is out of range. It must be <= " +
                                 std::to_string(maxLength) + ". Received " + std::to_string(length));
  }
  std::vector<int> fds;
  fds.reserve(length);
  for (uint32_t i = 0; i < length; i++) {
    std::string element = std::string(name) + "[" + std::to_string(i) + "]";
    fds.push_back(ToFd(array.Get(i), element.c_str()));
  }
  return fds;
}

}  // namespace overseer
