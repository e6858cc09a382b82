// Windows: the POSIX fd functions have no meaning here (listeners travel as handles over
// Node's IPC channel). They stay registered, so the addon's shape matches NativeBinding on
// every platform, and each one honestly refuses with code ENOTSUP. The Windows concepts
// (named-pipe server and client, security descriptors) register themselves beside them.
#include <napi.h>

#include <string>

#include "errors.h"
#include "exports.h"
#include "win32_exports.h"

namespace overseer {

namespace {

const char* const kPosixOnly[] = {
    "tcpListen",   "unixListen", "describeFd", "getCloexec",      "setCloexec",
    "dup",         "close",      "unixConnect", "accept",         "sendFds",
    "recvFds",     "peerCredentials", "setParentDeathSignal", "sendDatagram",
    "reapChild",
};

}  // namespace

void InitWin32(Napi::Env env, Napi::Object exports) {
  for (const char* name : kPosixOnly) {
    std::string fn = name;
    exports.Set(name, Napi::Function::New(
                          env,
                          [fn](const Napi::CallbackInfo& info) -> Napi::Value {
                            throw NotSupported(info.Env(), fn.c_str(), fn + " is POSIX-only");
                          },
                          name));
  }
  InitWin32PipeServer(env, exports);
  InitWin32PipeClient(env, exports);
  InitWin32Security(env, exports);
}

}  // namespace overseer
