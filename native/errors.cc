#include "errors.h"

#include <uv.h>

namespace overseer {

namespace {

// The _r variants of uv_err_name/uv_strerror: the plain ones leak a heap string for every
// error number libuv does not know.
std::string ErrName(int uvErr) {
  char buf[64];
  return uv_err_name_r(uvErr, buf, sizeof buf);
}

std::string ErrText(int uvErr) {
  char buf[256];
  return uv_strerror_r(uvErr, buf, sizeof buf);
}

Napi::Error WithCode(Napi::Error err, const char* code) {
  err.Set("code", Napi::String::New(err.Env(), code));
  return err;
}

}  // namespace

Napi::Error SysError(Napi::Env env, int uvErr, const char* syscall, const std::string& detail) {
  std::string code = ErrName(uvErr);
  std::string message = std::string(syscall) + " " + code + ": " + ErrText(uvErr);
  if (!detail.empty()) message += " " + detail;
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("errno", Napi::Number::New(env, uvErr));
  err.Set("code", Napi::String::New(env, code));
  err.Set("syscall", Napi::String::New(env, syscall));
  return err;
}

Napi::Error NotSupported(Napi::Env env, const char* syscall, const std::string& why) {
  return SysError(env, UV_ENOTSUP, syscall, "(" + why + ")");
}

Napi::Error TypeErrorWithCode(Napi::Env env, const char* code, const std::string& message) {
  return WithCode(Napi::TypeError::New(env, message), code);
}

Napi::Error RangeErrorWithCode(Napi::Env env, const char* code, const std::string& message) {
  return WithCode(Napi::RangeError::New(env, message), code);
}

}  // namespace overseer
