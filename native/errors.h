// Errors shaped like Node's own, so JS callers can switch on err.code.
#ifndef OVERSEER_ERRORS_H
#define OVERSEER_ERRORS_H

#include <napi.h>

#include <string>

namespace overseer {

// A system-call failure: message "<syscall> <CODE>: <strerror>[ <detail>]", with code,
// errno (the negative libuv error, as Node reports it) and syscall. `uvErr` is a libuv
// error number (on POSIX that is -errno), so Windows code can pass translated errors too.
Napi::Error SysError(Napi::Env env, int uvErr, const char* syscall,
                     const std::string& detail = std::string());

// A platform that cannot do the thing at all: code ENOTSUP, with an explanation.
Napi::Error NotSupported(Napi::Env env, const char* syscall, const std::string& why);

// Argument errors, as Node's validators make them.
Napi::Error TypeErrorWithCode(Napi::Env env, const char* code, const std::string& message);
Napi::Error RangeErrorWithCode(Napi::Env env, const char* code, const std::string& message);

}  // namespace overseer

#endif
