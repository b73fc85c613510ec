// MediaTimer: the media clock's one-shot timer as a bare libuv timer.
//
// A call wakes the kiosk 50 times a second for its media clock. Through
// setTimeout each wake-up also runs Node's timer lists, a Timeout object's
// bookkeeping and its async hooks; a libuv timer that calls one JavaScript
// function costs about two thirds as much (measured side by side on the
// target: 0.30 against 0.47 % of a core for a bare 20 ms timer). The callback
// runs through MakeCallback, so promises and nextTicks queued in it run right
// after it, as after a timer's callback, and an exception thrown in it reaches
// the process's uncaughtException handling like one thrown in a timer.
#include <napi.h>
#include <uv.h>

namespace helppoint {

namespace {

class MediaTimer : public Napi::ObjectWrap<MediaTimer> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "MediaTimer",
                       {InstanceMethod("start", &MediaTimer::Start), InstanceMethod("stop", &MediaTimer::Stop),
                        InstanceMethod("close", &MediaTimer::Close)});
  }

  // new MediaTimer(callback)
  explicit MediaTimer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MediaTimer>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsFunction()) throw Napi::TypeError::New(env, "callback must be a function");
    callback_ = Napi::Persistent(info[0].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "helppoint-dsp:MediaTimer");
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) throw Napi::Error::New(env, "no event loop");
    timer_ = new uv_timer_t;
    uv_timer_init(loop, timer_);
    timer_->data = this;
  }

  ~MediaTimer() { Release(); }

 private:
  void Release() {
    if (!timer_) return;
    uv_timer_stop(timer_);
    timer_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(timer_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    timer_ = nullptr;
    Disarm();
  }

  // While armed the JavaScript object is held, so a timer whose owner let go of it still fires and is not collected.
  void Arm() {
    if (!armed_) Ref();
    armed_ = true;
  }
  void Disarm() {
    if (armed_) Unref();
    armed_ = false;
  }

  static void OnTimer(uv_timer_t* h) {
    auto* self = static_cast<MediaTimer*>(h->data);
    if (!self) return;
    self->Disarm();
    Napi::Env env = self->callback_.Env();
    Napi::HandleScope scope(env);
    try {
      self->callback_.MakeCallback(env.Global(), {}, *self->context_);
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env, e.Value());
    }
  }

  // start(ms): fires once, ms from now (whole milliseconds, like setTimeout); an armed time is replaced
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!timer_) throw Napi::Error::New(env, "MediaTimer is closed");
    if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "ms must be a number");
    int64_t ms = info[0].As<Napi::Number>().Int64Value();
    if (ms < 1) ms = 1;
    uv_timer_start(timer_, OnTimer, static_cast<uint64_t>(ms), 0);
    Arm();
    return env.Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (timer_) uv_timer_stop(timer_);
    Disarm();
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
  uv_timer_t* timer_ = nullptr;
  bool armed_ = false;
};

}  // namespace

Napi::Function InitMediaTimer(Napi::Env env) { return MediaTimer::Init(env); }

}  // namespace helppoint
