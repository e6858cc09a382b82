// Argument validation. Bad arguments must become catchable JS errors (TypeError with
// ERR_INVALID_ARG_TYPE, RangeError with ERR_OUT_OF_RANGE, TypeError with
// ERR_INVALID_ARG_VALUE), never a crash, so every exported function funnels its inputs
// through these helpers before touching the system.
#ifndef OVERSEER_ARGS_H
#define OVERSEER_ARGS_H

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace overseer {

// The most descriptors one SCM_RIGHTS message may carry (Linux's SCM_MAX_FD).
constexpr size_t kMaxFdsPerMessage = 253;
// The most bytes one sendFds/recvFds call moves.
constexpr size_t kMaxMessageBytes = 64 * 1024;

int64_t ToInteger(Napi::Value value, const char* name, int64_t min, int64_t max);
// A file descriptor: an integer in [0, INT32_MAX].
int ToFd(Napi::Value value, const char* name);
// A poll() timeout in milliseconds: an integer in [0, INT32_MAX].
int ToTimeoutMs(Napi::Value value, const char* name);
bool ToBool(Napi::Value value, const char* name);
std::string ToString(Napi::Value value, const char* name);
// A non-empty string without NUL bytes (the kernel would silently truncate at one).
std::string ToPath(Napi::Value value, const char* name);
Napi::Object ToObject(Napi::Value value, const char* name);
// A copy of a Buffer/TypedArray/DataView's bytes, safe to use off the JS thread.
std::vector<uint8_t> CopyBytes(Napi::Value value, const char* name);
// An array of at most maxLength file descriptors.
std::vector<int> ToFdArray(Napi::Value value, const char* name, size_t maxLength);

// Throws TypeError ERR_INVALID_ARG_VALUE ("The argument '<name>' <reason>. Received ...").
[[noreturn]] void ThrowInvalidValue(Napi::Value value, const char* name, const std::string& reason);
// Throws RangeError ERR_OUT_OF_RANGE ("The value of "<name>" is out of range. ...").
[[noreturn]] void ThrowOutOfRange(Napi::Value value, const char* name, const std::string& range);

}  // namespace overseer

#endif
