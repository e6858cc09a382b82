// pipeListen: a named-pipe server made with CreateNamedPipeW, locked down by a security
// descriptor, whose connected pipes reach JS as fds for `new net.Socket({ fd })`.
//
// One accept thread per server waits in an overlapped ConnectNamedPipe on the pending
// instance, together with a stop event. When a client connects, the thread first creates
// the next instance, so the name is never without an owner, and only then hands the
// connected one over. The hand-off is a threadsafe function: on the JS thread the handle
// becomes an fd of the host's CRT (uv_open_osfhandle). Whatever cannot be handed over
// (server closed, env torn down, no fd) is closed by the addon.
#include "win32_util.h"  // first: windows.h, lean

#include <aclapi.h>
#include <uv.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "args.h"
#include "errors.h"
#include "surface.h"

namespace overseer {

namespace {

constexpr DWORD kBufferSize = 64 * 1024;

// What the accept thread hands to the JS thread: a connected pipe, or an error.
struct Accepted {
  HANDLE handle = INVALID_HANDLE_VALUE;
  DWORD error = 0;
  const char* syscall = "";
};

class PipeServer;
void CallJs(Napi::Env env, Napi::Function callback, PipeServer* server, Accepted* item);
using Tsfn = Napi::TypedThreadSafeFunction<PipeServer, Accepted, CallJs>;

class PipeServer {
 public:
  PipeServer(std::wstring name, std::string displayName)
      : name_(std::move(name)), displayName_(std::move(displayName)) {
    stop_ = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    connectEvent_ = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  }

  PipeServer(const PipeServer&) = delete;
  PipeServer& operator=(const PipeServer&) = delete;

  ~PipeServer() {
    StopThread();
    ClosePending();
    if (stop_ != nullptr) CloseHandle(stop_);
    if (connectEvent_ != nullptr) CloseHandle(connectEvent_);
  }

  const std::string& displayName() const { return displayName_; }
  bool closed() const { return closed_; }

  // JS thread. The SDDL is parsed and the first instance created synchronously, so that a
  // bad descriptor or a taken name is a synchronous throw.
  void Listen(Napi::Env env, const std::wstring& sddl, Napi::Function onConnection,
              std::shared_ptr<PipeServer> self) {
    if (stop_ == nullptr || connectEvent_ == nullptr) throw Win32Error(env, GetLastError(), "CreateEventW");
    if (DWORD err = sd_.FromSddl(sddl)) {
      // Whatever the parser's Win32 error (it varies), the SDDL is an invalid argument.
      Napi::Error e = SysError(env, UV_EINVAL, "ConvertStringSecurityDescriptorToSecurityDescriptorW",
                               "(invalid SDDL: " + Narrow(sddl) + ")");
      e.Set("winerror", Napi::Number::New(env, static_cast<double>(err)));
      throw e;
    }
    if (!sd_.HasDacl()) {
      throw SysError(env, UV_EINVAL, "ConvertStringSecurityDescriptorToSecurityDescriptorW",
                     "(the SDDL has no DACL, which would allow everyone: " + Narrow(sddl) + ")");
    }
    HANDLE first = CreateInstance(true);
    if (first == INVALID_HANDLE_VALUE) {
      DWORD err = GetLastError();
      // The first-instance flag: someone (maybe another user) already owns this name.
      if (err == ERROR_ACCESS_DENIED) throw SysError(env, UV_EADDRINUSE, "CreateNamedPipeW", displayName_);
      throw Win32Error(env, err, "CreateNamedPipeW", displayName_);
    }
    pending_ = first;

    auto keepAlive = std::make_unique<std::shared_ptr<PipeServer>>(std::move(self));
    tsfn_ = Tsfn::New(env, onConnection, "overseer.pipeListen", 0, 1, this,
                      [](Napi::Env, std::shared_ptr<PipeServer>* owner, PipeServer* server) {
                        // Also reached when the env is torn down without close(): the
                        // thread must be gone before the threadsafe function is freed.
                        server->StopThread();
                        delete owner;
                      },
                      keepAlive.get());
    keepAlive.release();  // the finalizer owns it now
    thread_ = std::thread([this] { Run(); });
  }

  // JS thread; idempotent.
  void Close() {
    if (closed_) return;
    closed_ = true;
    StopThread();
    ClosePending();
    tsfn_.Release();  // queued connections are closed by CallJs (closed_ is set)
  }

  void Ref(Napi::Env env) {
    if (!closed_) tsfn_.Ref(env);
  }
  void Unref(Napi::Env env) {
    if (!closed_) tsfn_.Unref(env);
  }

  // The DACL of the pending instance, as SDDL; 0 or a Win32 error.
  DWORD Security(std::wstring* out) {
    std::lock_guard<std::mutex> lock(pendingMutex_);
    if (pending_ == INVALID_HANDLE_VALUE) return ERROR_INVALID_HANDLE;
    PSECURITY_DESCRIPTOR sd = nullptr;
    DWORD err = GetSecurityInfo(pending_, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, nullptr, nullptr,
                                nullptr, nullptr, &sd);
    if (err != ERROR_SUCCESS) return err;
    err = DaclToSddl(sd, out);
    LocalFree(sd);
    return err;
  }

 private:
  HANDLE CreateInstance(bool first) {
    SECURITY_ATTRIBUTES sa;
    sa.nLength = sizeof sa;
    sa.lpSecurityDescriptor = sd_.get();
    sa.bInheritHandle = FALSE;
    DWORD openMode = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0);
    DWORD pipeMode = PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS;
    return CreateNamedPipeW(name_.c_str(), openMode, pipeMode, PIPE_UNLIMITED_INSTANCES, kBufferSize,
                            kBufferSize, 0, &sa);
  }

  void SetPending(HANDLE h) {
    std::lock_guard<std::mutex> lock(pendingMutex_);
    pending_ = h;
  }

  void ClosePending() {
    std::lock_guard<std::mutex> lock(pendingMutex_);
    if (pending_ != INVALID_HANDLE_VALUE) CloseHandle(pending_);
    pending_ = INVALID_HANDLE_VALUE;
  }

  void StopThread() {
    if (!thread_.joinable()) return;
    SetEvent(stop_);
    thread_.join();
  }

  bool Stopping() { return WaitForSingleObject(stop_, 0) == WAIT_OBJECT_0; }

  // Waits `ms` unless stopped; false when stopped.
  bool Backoff(DWORD ms) { return WaitForSingleObject(stop_, ms) == WAIT_TIMEOUT; }

  void Post(Accepted item) {
    auto* owned = new Accepted(item);
    if (tsfn_.BlockingCall(owned) != napi_ok) {
      if (owned->handle != INVALID_HANDLE_VALUE) CloseHandle(owned->handle);
      delete owned;
    }
  }

  void PostError(DWORD err, const char* syscall) {
    Accepted item;
    item.error = err;
    item.syscall = syscall;
    Post(item);
  }

  // Waits for a client on pending_: 0 when one is connected, ERROR_OPERATION_ABORTED when
  // stopped, or another Win32 error.
  DWORD Connect() {
    OVERLAPPED ov;
    ZeroMemory(&ov, sizeof ov);
    ov.hEvent = connectEvent_;
    ResetEvent(connectEvent_);
    if (ConnectNamedPipe(pending_, &ov)) return 0;
    DWORD err = GetLastError();
    if (err == ERROR_PIPE_CONNECTED) return 0;  // connected between create and connect
    if (err != ERROR_IO_PENDING) return err;

    HANDLE waits[2] = {stop_, connectEvent_};
    DWORD which = WaitForMultipleObjects(2, waits, FALSE, INFINITE);
    DWORD transferred = 0;
    if (which != WAIT_OBJECT_0 + 1) {
      // Stopped (or the wait itself failed): cancel, and wait for the cancellation to land
      // so that `ov` is no longer in use when this frame returns.
      CancelIoEx(pending_, &ov);
      if (GetOverlappedResult(pending_, &ov, &transferred, TRUE)) {
        // A client connected in the same instant; it is closed with the pending instance.
      }
      return ERROR_OPERATION_ABORTED;
    }
    if (GetOverlappedResult(pending_, &ov, &transferred, FALSE)) return 0;
    return GetLastError();
  }

  void Run() {
    DWORD backoff = 0;
    while (!Stopping()) {
      if (pending_ == INVALID_HANDLE_VALUE) {
        // The last CreateNamedPipeW failed: retry, slowly, until stopped.
        if (!Backoff(backoff)) return;
        HANDLE h = CreateInstance(false);
        if (h == INVALID_HANDLE_VALUE) {
          backoff = std::min<DWORD>(std::max<DWORD>(backoff * 2, 10), 1000);
          PostError(GetLastError(), "CreateNamedPipeW");
          continue;
        }
        SetPending(h);
      }

      DWORD err = Connect();
      if (err == ERROR_OPERATION_ABORTED && Stopping()) return;
      if (err == ERROR_NO_DATA || err == ERROR_BROKEN_PIPE) {
        // The client came and went before we saw it: reuse the instance.
        DisconnectNamedPipe(pending_);
        continue;
      }
      if (err != 0) {
        // Unexpected: report it, and replace the instance after a pause.
        PostError(err, "ConnectNamedPipe");
        ClosePending();
        backoff = std::min<DWORD>(std::max<DWORD>(backoff * 2, 10), 1000);
        continue;
      }
      backoff = 0;

      // The next instance exists before the connected one leaves our hands.
      HANDLE connected = pending_;
      HANDLE next = CreateInstance(false);
      DWORD createErr = next == INVALID_HANDLE_VALUE ? GetLastError() : 0;
      SetPending(next);

      Accepted item;
      item.handle = connected;
      Post(item);
      if (createErr != 0) {
        PostError(createErr, "CreateNamedPipeW");
        backoff = 10;
      }
    }
  }

  std::wstring name_;
  std::string displayName_;
  SecurityDescriptor sd_;
  HANDLE stop_ = nullptr;
  HANDLE connectEvent_ = nullptr;
  std::mutex pendingMutex_;  // guards pending_ against Security() on the JS thread
  HANDLE pending_ = INVALID_HANDLE_VALUE;
  std::thread thread_;
  Tsfn tsfn_;
  bool closed_ = false;  // JS thread only
};

void CallJs(Napi::Env env, Napi::Function callback, PipeServer* server, Accepted* item) {
  std::unique_ptr<Accepted> owned(item);
  if (env == nullptr || server == nullptr || server->closed()) {
    if (item->handle != INVALID_HANDLE_VALUE) CloseHandle(item->handle);
    return;
  }
  if (item->handle == INVALID_HANDLE_VALUE) {
    callback.Call({Win32Error(env, item->error, item->syscall, server->displayName()).Value()});
    return;
  }
  int fd = OpenOsfHandle(item->handle);
  if (fd < 0) {
    CloseHandle(item->handle);
    callback.Call({SysError(env, UV_EMFILE, "uv_open_osfhandle", server->displayName()).Value()});
    return;
  }
  callback.Call({env.Null(), Napi::Number::New(env, fd)});
}

std::wstring ToPipeName(Napi::Value value, const char* name) {
  std::wstring path = Widen(ToPath(value, name));
  if (!IsPipePath(path)) ThrowInvalidValue(value, name, "must be a pipe path (\\\\.\\pipe\\<name>)");
  return path;
}

}  // namespace

Napi::Value PipeListen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::wstring name = ToPipeName(info[0], "name");
  std::wstring sddl;
  if (info[1].IsUndefined() || info[1].IsNull()) {
    if (DWORD err = DefaultPipeSddl(&sddl)) throw Win32Error(env, err, "GetTokenInformation");
  } else {
    sddl = Widen(ToString(info[1], "sddl"));
    if (sddl.empty()) ThrowInvalidValue(info[1], "sddl", "must not be empty");
  }
  if (!info[2].IsFunction()) {
    throw TypeErrorWithCode(env, "ERR_INVALID_ARG_TYPE", "The \"onConnection\" argument must be of type function");
  }
  if (!HostCanOpenOsfHandle()) {
    throw NotSupported(env, "uv_open_osfhandle", "the host executable does not export uv_open_osfhandle");
  }

  auto server = std::make_shared<PipeServer>(name, Narrow(name));
  server->Listen(env, sddl, info[2].As<Napi::Function>(), server);

  // The JS object's methods share ownership; the threadsafe function holds another share
  // until it is finalized, so a listening server is never collected.
  Napi::Object obj = Napi::Object::New(env);
  obj.Set("close", Napi::Function::New(
                       env,
                       [server](const Napi::CallbackInfo&) { server->Close(); },
                       "close"));
  obj.Set("ref", Napi::Function::New(
                     env, [server](const Napi::CallbackInfo& i) { server->Ref(i.Env()); }, "ref"));
  obj.Set("unref", Napi::Function::New(
                       env, [server](const Napi::CallbackInfo& i) { server->Unref(i.Env()); }, "unref"));
  obj.Set("security", Napi::Function::New(
                          env,
                          [server](const Napi::CallbackInfo& i) -> Napi::Value {
                            if (server->closed()) {
                              throw SysError(i.Env(), UV_EBADF, "GetSecurityInfo", server->displayName());
                            }
                            std::wstring current;
                            if (DWORD err = server->Security(&current)) {
                              throw Win32Error(i.Env(), err, "GetSecurityInfo", server->displayName());
                            }
                            return Napi::String::New(i.Env(), Narrow(current));
                          },
                          "security"));
  obj.Set("name", Napi::String::New(env, server->displayName()));
  return obj;
}

}  // namespace overseer
