// A worker asks the kernel to signal it when its master dies, so an orphaned worker exits
// even if the IPC channel's disconnect never reaches it (e.g. the master was SIGKILLed).
#include <signal.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include <cerrno>

#include "args.h"
#include "errors.h"
#include "surface.h"

namespace overseer {

namespace {

#ifdef NSIG
constexpr int kMaxSignal = NSIG - 1;
#else
constexpr int kMaxSignal = 64;
#endif

}  // namespace

Napi::Value SetParentDeathSignal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int signal = static_cast<int>(ToInteger(info[0], "signal", 0, kMaxSignal));
#if defined(__linux__)
  // Note: the kernel fires this when the parent *thread* that forked us exits.
  if (prctl(PR_SET_PDEATHSIG, static_cast<unsigned long>(signal), 0, 0, 0) != 0) {
    throw SysError(env, -errno, "prctl");
  }
  return env.Undefined();
#else
  (void)signal;
  throw NotSupported(env, "prctl", "PR_SET_PDEATHSIG is Linux-only");
#endif
}

}  // namespace overseer
