// Module init: registers the platform's functions and names the platform it was built for.
#include <napi.h>

#include "exports.h"

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
#ifdef _WIN32
  overseer::InitWin32(env, exports);
#else
  overseer::InitListen(env, exports);
  overseer::InitFd(env, exports);
  overseer::InitConnect(env, exports);
  overseer::InitScmRights(env, exports);
  overseer::InitPeercred(env, exports);
  overseer::InitPdeathsig(env, exports);
  overseer::InitDatagram(env, exports);
  overseer::InitReuseport(env, exports);
  overseer::InitReap(env, exports);
#endif
  exports.DefineProperty(Napi::PropertyDescriptor::Value(
      "platform", Napi::String::New(env, PlatformName()), napi_enumerable));
  return exports;
}

}  // namespace

NODE_API_MODULE(overseer, Init)
