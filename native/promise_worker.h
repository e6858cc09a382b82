// Blocking work off the event loop, settled as a Promise. The worker thread only records
// errno and the syscall; the JS Error is built on the JS thread (OnError), because no JS
// value may be touched from the thread pool.
#ifndef OVERSEER_PROMISE_WORKER_H
#define OVERSEER_PROMISE_WORKER_H

#include <napi.h>

#include <string>

#include "errors.h"

namespace overseer {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, const char* resourceName)
      : Napi::AsyncWorker(env, resourceName), deferred_(Napi::Promise::Deferred::New(env)) {}

  // Queues the work and hands back its promise. The worker deletes itself when done.
  Napi::Promise Start() {
    Napi::Promise promise = deferred_.Promise();
    Queue();
    return promise;
  }

 protected:
  // Called from Execute() on failure: `uvErr` is a libuv error number (-errno on POSIX).
  void Fail(int uvErr, const char* syscall, std::string detail = std::string()) {
    uvErr_ = uvErr;
    syscall_ = syscall;
    detail_ = std::move(detail);
    SetError(syscall);
  }

  // The resolved value, built on the JS thread after a successful Execute().
  virtual Napi::Value Result(Napi::Env env) = 0;

  void OnOK() override {
    Napi::HandleScope scope(Env());
    deferred_.Resolve(Result(Env()));
  }

  void OnError(const Napi::Error&) override {
    Napi::HandleScope scope(Env());
    deferred_.Reject(SysError(Env(), uvErr_, syscall_, detail_).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  int uvErr_ = 0;
  const char* syscall_ = "";
  std::string detail_;
};

}  // namespace overseer

#endif
