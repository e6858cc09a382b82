// Windows: the POSIX fd functions have no meaning here (listeners travel as handles over
// Node's IPC channel). Each function of OVERSEER_POSIX_FUNCTIONS (surface.h) is defined here
// as a refusal with code ENOTSUP, errno and syscall (the function's own name), so the addon's
// shape matches NativeBinding on every platform and no POSIX function can lack its stub.
#include <napi.h>

#include "errors.h"
#include "surface.h"

namespace overseer {

#define OVERSEER_POSIX_ONLY(name, function)                      \
  Napi::Value function(const Napi::CallbackInfo& info) {         \
    throw NotSupported(info.Env(), name, name " is POSIX-only"); \
  }
OVERSEER_POSIX_FUNCTIONS(OVERSEER_POSIX_ONLY)
#undef OVERSEER_POSIX_ONLY

}  // namespace overseer
