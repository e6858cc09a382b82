// Module init: registers every function of the surface (surface.h) and names the platform
// it was built for.
#include <napi.h>

#include "surface.h"

namespace {

// process.platform's name for the OS this file was compiled on.
const char* PlatformName() {
#if defined(_WIN32)
  return "win32";
#elif defined(__APPLE__)
  return "darwin";
#elif defined(__linux__)
  return "linux";
#elif defined(__FreeBSD__)
  return "freebsd";
#elif defined(__OpenBSD__)
  return "openbsd";
#elif defined(__sun)
  return "sunos";
#elif defined(_AIX)
  return "aix";
#else
  return "unknown";
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
#define OVERSEER_REGISTER(name, function) \
  exports.Set(name, Napi::Function::New(env, overseer::function, name));
  OVERSEER_POSIX_FUNCTIONS(OVERSEER_REGISTER)
#ifdef _WIN32
  OVERSEER_WIN32_FUNCTIONS(OVERSEER_REGISTER)
#endif
#undef OVERSEER_REGISTER
  exports.DefineProperty(Napi::PropertyDescriptor::Value(
      "platform", Napi::String::New(env, PlatformName()), napi_enumerable));
  return exports;
}

}  // namespace

NODE_API_MODULE(overseer, Init)
