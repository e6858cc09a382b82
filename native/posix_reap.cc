// A master that is PID 1 (a container's init) inherits every orphaned process of the
// container and must reap them when they exit, or they stay zombies. One waitpid(2) with
// WNOHANG for a pid the caller knows to be a zombie child that libuv does not own.
#include <sys/types.h>
#include <sys/wait.h>

#include <cerrno>
#include <climits>

#include "args.h"
#include "errors.h"
#include "surface.h"

namespace overseer {

Napi::Value ReapChild(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t pid = static_cast<pid_t>(ToInteger(info[0], "pid", 1, INT_MAX));
  int status = 0;
  pid_t reaped;
  do {
    reaped = waitpid(pid, &status, WNOHANG);
  } while (reaped < 0 && errno == EINTR);
  if (reaped < 0) throw SysError(env, -errno, "waitpid");
  return Napi::Boolean::New(env, reaped == pid);
}

}  // namespace overseer
