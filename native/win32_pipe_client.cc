// pipeConnect: the client side of a named pipe, opened off the event loop. The open asks
// for SECURITY_IDENTIFICATION only, so a server squatting on the name can learn who we are
// but cannot act as us. A busy pipe (every instance taken) is waited for with
// WaitNamedPipeW, within the caller's deadline.
#include "win32_util.h"  // first: windows.h, lean

#include <uv.h>

#include <algorithm>
#include <string>

#include "args.h"
#include "errors.h"
#include "surface.h"

namespace overseer {

namespace {

class PipeConnectWorker : public Napi::AsyncWorker {
 public:
  PipeConnectWorker(Napi::Env env, std::wstring name, int timeoutMs)
      : Napi::AsyncWorker(env, "overseer.pipeConnect"),
        deferred_(Napi::Promise::Deferred::New(env)),
        name_(std::move(name)),
        timeoutMs_(timeoutMs) {}

  Napi::Promise Start() {
    Napi::Promise promise = deferred_.Promise();
    Queue();
    return promise;
  }

 protected:
  void Execute() override {
    const ULONGLONG deadline = GetTickCount64() + static_cast<ULONGLONG>(timeoutMs_);
    for (;;) {
      HANDLE h = CreateFileW(name_.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                             FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, nullptr);
      if (h != INVALID_HANDLE_VALUE) {
        handle_.reset(h);
        return;
      }
      DWORD err = GetLastError();
      if (err != ERROR_PIPE_BUSY) return Fail(err, "CreateFileW");
      ULONGLONG now = GetTickCount64();
      if (timeoutMs_ == 0) return Fail(err, "CreateFileW");
      if (now >= deadline) return Fail(ERROR_SEM_TIMEOUT, "WaitNamedPipeW");
      // Every instance is taken: wait for one to come free (or for the deadline).
      DWORD wait = static_cast<DWORD>(std::max<ULONGLONG>(1, deadline - now));
      if (!WaitNamedPipeW(name_.c_str(), wait)) {
        DWORD waitErr = GetLastError();
        if (waitErr == ERROR_FILE_NOT_FOUND) return Fail(waitErr, "WaitNamedPipeW");
        if (waitErr != ERROR_SEM_TIMEOUT) Sleep(1);  // don't spin on an unexpected error
      }
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    int fd = OpenOsfHandle(handle_.get());
    if (fd < 0) {
      deferred_.Reject(SysError(env, UV_EMFILE, "uv_open_osfhandle", Narrow(name_)).Value());
      return;  // handle_ closes the pipe
    }
    handle_.release();  // the fd owns it now
    deferred_.Resolve(Napi::Number::New(env, fd));
  }

  void OnError(const Napi::Error&) override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    deferred_.Reject(Win32Error(env, error_, syscall_, Narrow(name_)).Value());
  }

 private:
  void Fail(DWORD err, const char* syscall) {
    error_ = err;
    syscall_ = syscall;
    SetError(syscall);
  }

  Napi::Promise::Deferred deferred_;
  std::wstring name_;
  int timeoutMs_;
  UniqueHandle handle_;
  DWORD error_ = 0;
  const char* syscall_ = "";
};

}  // namespace

Napi::Value PipeConnect(const Napi::CallbackInfo& info) {
  std::wstring name = Widen(ToPath(info[0], "name"));
  if (!IsPipePath(name)) ThrowInvalidValue(info[0], "name", "must be a pipe path (\\\\.\\pipe\\<name>)");
  int timeoutMs = ToTimeoutMs(info[1], "timeoutMs");
  if (!HostCanOpenOsfHandle()) {
    throw NotSupported(info.Env(), "uv_open_osfhandle", "the host executable does not export uv_open_osfhandle");
  }
  return (new PipeConnectWorker(info.Env(), std::move(name), timeoutMs))->Start();
}

}  // namespace overseer
