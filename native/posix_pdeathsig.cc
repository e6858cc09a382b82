// A worker asks the kernel to signal it when its master dies, so an orphaned worker exits
// even if the IPC channel's disconnect never reaches it (its event loop is blocked, say).
//   setParentDeathSignal(signal): PR_SET_PDEATHSIG, the signal itself.
//   killOnParentDeath(delayMs):   the master's death starts a timer that SIGKILLs this
//     process delayMs later, so the worker first has that long to exit normally (the IPC
//     disconnect: its `exit` handlers run), and the kernel ends it if it cannot.
#include <signal.h>
#if defined(__linux__)
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
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

#if defined(__linux__)
// The kernel's id of the one-shot SIGKILL timer, and its delay. The timer is made and
// armed with raw system calls: glibc 2.34 moved timer_create() into libc under a new symbol
// version, which would make the prebuilds need a newer glibc than Node itself does.
int deathTimer = -1;
struct itimerspec deathDelay = {};

// Runs on the parent-death signal; timer_settime is async-signal-safe.
void StartDeathTimer(int) {
  int saved = errno;
  syscall(SYS_timer_settime, deathTimer, 0, &deathDelay, nullptr);
  errno = saved;
}

// A realtime signal of our own for the death: Node cannot listen to realtime signals, so
// no program's handler is ever in the way, and nothing else sends it.
int DeathSignal() {
  return SIGRTMAX - 3;
}
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

Napi::Value KillOnParentDeath(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t delayMs = ToInteger(info[0], "delayMs", 1, 3600 * 1000);
#if defined(__linux__)
  if (deathTimer < 0) {
    struct sigevent event = {};
    event.sigev_notify = SIGEV_SIGNAL;
    event.sigev_signo = SIGKILL;
    int id = -1;
    if (syscall(SYS_timer_create, CLOCK_MONOTONIC, &event, &id) != 0) {
      throw SysError(env, -errno, "timer_create");
    }
    deathTimer = id;
  }
  deathDelay.it_value.tv_sec = static_cast<time_t>(delayMs / 1000);
  deathDelay.it_value.tv_nsec = static_cast<long>((delayMs % 1000) * 1000000);
  struct sigaction action = {};
  action.sa_handler = StartDeathTimer;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  if (sigaction(DeathSignal(), &action, nullptr) != 0) throw SysError(env, -errno, "sigaction");
  if (prctl(PR_SET_PDEATHSIG, static_cast<unsigned long>(DeathSignal()), 0, 0, 0) != 0) {
    throw SysError(env, -errno, "prctl");
  }
  return Napi::Number::New(env, DeathSignal());
#else
  (void)delayMs;
  throw NotSupported(env, "prctl", "PR_SET_PDEATHSIG is Linux-only");
#endif
}

}  // namespace overseer
