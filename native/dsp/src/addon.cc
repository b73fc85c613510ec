// Node-API bindings for libspeexdsp: the acoustic echo canceller (MDF), the
// preprocessor (noise suppression, automatic gain, residual echo
// suppression) and the resampler. Every call works on caller-owned Int16Array
// buffers and returns a number, so a 20 ms frame costs no JavaScript
// allocation: the hot path of a call never feeds the garbage collector.
// Also the mixer's ALSA output (AlsaOutput), a non-blocking device write, and
// threadPoolIds(), which tells libuv's worker threads apart from V8's.
#include <napi.h>

#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>
#include <speex/speex_resampler.h>

#include <dlfcn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

namespace helppoint {
// udp-socket.cc, media-timer.cc
Napi::Function InitUdpSocket(Napi::Env env);
Napi::Function InitMediaTimer(Napi::Env env);
}  // namespace helppoint

namespace {

Napi::Int16Array Samples(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_int16_array) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be an Int16Array");
  }
  return info[i].As<Napi::Int16Array>();
}

int32_t Int(const Napi::CallbackInfo& info, size_t i, const char* what, int32_t min, int32_t max) {
  if (info.Length() <= i || !info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
  int32_t v = info[i].As<Napi::Number>().Int32Value();
  if (v < min || v > max) {
    throw Napi::RangeError::New(info.Env(), std::string(what) + " must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return v;
}

// ---------------------------------------------------------------------------
// EchoCanceller(frameSize, tailSamples, rate)
//   cancel(mic, ref, out): out = mic minus the echo of ref (all frameSize long)
class EchoCanceller : public Napi::ObjectWrap<EchoCanceller> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "EchoCanceller",
                       {InstanceMethod("cancel", &EchoCanceller::Cancel), InstanceMethod("reset", &EchoCanceller::Reset),
                        InstanceMethod("close", &EchoCanceller::Close),
                        InstanceAccessor("frameSize", &EchoCanceller::FrameSize, nullptr)});
  }

  explicit EchoCanceller(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EchoCanceller>(info) {
    frame_ = Int(info, 0, "frameSize", 16, 4096);
    int tail = Int(info, 1, "tailSamples", frame_, 48000 * 2);
    int rate = Int(info, 2, "rate", 8000, 48000);
    st_ = speex_echo_state_init(frame_, tail);
    if (!st_) throw Napi::Error::New(info.Env(), "speex_echo_state_init failed");
    speex_echo_ctl(st_, SPEEX_ECHO_SET_SAMPLING_RATE, &rate);
  }

  ~EchoCanceller() override { Free(); }

  SpeexEchoState* state() const { return st_; }

 private:
  void Free() {
    if (st_) speex_echo_state_destroy(st_);
    st_ = nullptr;
  }

  void Check(const Napi::CallbackInfo& info) {
    if (!st_) throw Napi::Error::New(info.Env(), "echo canceller is closed");
  }

  Napi::Value Cancel(const Napi::CallbackInfo& info) {
    Check(info);
    auto mic = Samples(info, 0, "mic");
    auto ref = Samples(info, 1, "ref");
    auto out = Samples(info, 2, "out");
    size_t n = static_cast<size_t>(frame_);
    if (mic.ElementLength() != n || ref.ElementLength() != n || out.ElementLength() != n) {
      throw Napi::RangeError::New(info.Env(), "mic, ref and out must each hold frameSize samples");
    }
    speex_echo_cancellation(st_, mic.Data(), ref.Data(), out.Data());
    return info.Env().Undefined();
  }

  Napi::Value Reset(const Napi::CallbackInfo& info) {
    Check(info);
    speex_echo_state_reset(st_);
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Free();
    return info.Env().Undefined();
  }

  Napi::Value FrameSize(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), frame_); }

  SpeexEchoState* st_ = nullptr;
  int frame_ = 0;
};

// ---------------------------------------------------------------------------
// Preprocessor(frameSize, rate, options)
//   run(frame): in place; returns 1 when speech is detected (VAD on), else 0
class Preprocessor : public Napi::ObjectWrap<Preprocessor> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Preprocessor",
                       {InstanceMethod("run", &Preprocessor::Run), InstanceMethod("close", &Preprocessor::Close),
                        InstanceAccessor("agcAvailable", &Preprocessor::AgcAvailable, nullptr),
                        InstanceAccessor("gainDb", &Preprocessor::GainDb, nullptr)});
  }

  explicit Preprocessor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Preprocessor>(info) {
    Napi::Env env = info.Env();
    frame_ = Int(info, 0, "frameSize", 16, 4096);
    int rate = Int(info, 1, "rate", 8000, 48000);
    Napi::Object o = info.Length() > 2 && info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(env);
    st_ = speex_preprocess_state_init(frame_, rate);
    if (!st_) throw Napi::Error::New(env, "speex_preprocess_state_init failed");

    auto flag = [&](const char* key, bool dflt) {
      Napi::Value v = o.Get(key);
      return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : dflt;
    };
    auto num = [&](const char* key, double dflt) {
      Napi::Value v = o.Get(key);
      return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : dflt;
    };

    spx_int32_t denoise = flag("denoise", true) ? 1 : 0;
    speex_preprocess_ctl(st_, SPEEX_PREPROCESS_SET_DENOISE, &denoise);
    spx_int32_t suppress = static_cast<spx_int32_t>(num("noiseSuppressDb", -15));
    speex_preprocess_ctl(st_, SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, &suppress);

    spx_int32_t agc = flag("agc", false) ? 1 : 0;
    // A fixed-point build of libspeexdsp has no AGC: the control call fails there.
    agc_available_ = speex_preprocess_ctl(st_, SPEEX_PREPROCESS_SET_AGC, &agc) == 0;
    if (agc && agc_available_) {
      float level = static_cast<float>(num("agcLevel", 8000));
      speex_preprocess_ctl(st_, SPEEX_PREPROCESS_SET_AGC_LEVEL, &level);
      spx_int32_t max_gain = static_cast<spx_int32_t>(num("agcMaxGainDb", 20));
      speex_preprocess_ctl(st_, SPEEX_PREPROCESS_SET_AGC_MAX_GAIN, &max_gain);
    }
    if (flag("vad", false)) {  // off by default; setting it at all makes libspeexdsp print a warning
      spx_int32_t vad = 1;
      speex_preprocess_ctl(st_, SPEEX_PREPROCESS_SET_VAD, &vad);
    }

    Napi::Value echo = o.Get("echo");
    if (echo.IsObject()) {
      EchoCanceller* ec = EchoCanceller::Unwrap(echo.As<Napi::Object>());
      if (!ec || !ec->state()) throw Napi::TypeError::New(env, "echo must be an open EchoCanceller");
      if (ec->state() && frame_ != 0) {
        echo_ref_ = Napi::Persistent(echo.As<Napi::Object>());  // keeps the canceller alive as long as we use it
        speex_preprocess_ctl(st_, SPEEX_PREPROCESS_SET_ECHO_STATE, ec->state());
        spx_int32_t es = static_cast<spx_int32_t>(num("echoSuppressDb", -40));
        spx_int32_t esa = static_cast<spx_int32_t>(num("echoSuppressActiveDb", -15));
        speex_preprocess_ctl(st_, SPEEX_PREPROCESS_SET_ECHO_SUPPRESS, &es);
        speex_preprocess_ctl(st_, SPEEX_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE, &esa);
      }
    }
  }

  ~Preprocessor() override { Free(); }

 private:
  void Free() {
    if (st_) speex_preprocess_state_destroy(st_);
    st_ = nullptr;
    if (!echo_ref_.IsEmpty()) echo_ref_.Reset();
  }

  Napi::Value Run(const Napi::CallbackInfo& info) {
    if (!st_) throw Napi::Error::New(info.Env(), "preprocessor is closed");
    auto frame = Samples(info, 0, "frame");
    if (frame.ElementLength() != static_cast<size_t>(frame_)) throw Napi::RangeError::New(info.Env(), "frame must hold frameSize samples");
    int speech = speex_preprocess_run(st_, frame.Data());
    return Napi::Number::New(info.Env(), speech);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Free();
    return info.Env().Undefined();
  }

  Napi::Value AgcAvailable(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), agc_available_); }

  Napi::Value GainDb(const Napi::CallbackInfo& info) {
    spx_int32_t g = 0;
    if (st_) speex_preprocess_ctl(st_, SPEEX_PREPROCESS_GET_AGC_GAIN, &g);
    return Napi::Number::New(info.Env(), g);
  }

  SpeexPreprocessState* st_ = nullptr;
  Napi::ObjectReference echo_ref_;
  int frame_ = 0;
  bool agc_available_ = false;
};

// ---------------------------------------------------------------------------
// Resampler(inRate, outRate, quality 0..10)
//   process(input, output): converts all of input, returns samples written
class Resampler : public Napi::ObjectWrap<Resampler> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Resampler",
                       {InstanceMethod("process", &Resampler::Process), InstanceMethod("skipZeros", &Resampler::SkipZeros),
                        InstanceMethod("reset", &Resampler::Reset), InstanceMethod("close", &Resampler::Close),
                        InstanceAccessor("inputLatency", &Resampler::InputLatency, nullptr),
                        InstanceAccessor("outputLatency", &Resampler::OutputLatency, nullptr)});
  }

  explicit Resampler(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Resampler>(info) {
    int in = Int(info, 0, "inRate", 1000, 384000);
    int out = Int(info, 1, "outRate", 1000, 384000);
    int q = info.Length() > 2 ? Int(info, 2, "quality", 0, 10) : 3;
    int err = 0;
    st_ = speex_resampler_init(1, in, out, q, &err);
    if (!st_ || err != RESAMPLER_ERR_SUCCESS) throw Napi::Error::New(info.Env(), std::string("speex_resampler_init: ") + speex_resampler_strerror(err));
  }

  ~Resampler() override { Free(); }

 private:
  void Free() {
    if (st_) speex_resampler_destroy(st_);
    st_ = nullptr;
  }

  void Check(const Napi::CallbackInfo& info) {
    if (!st_) throw Napi::Error::New(info.Env(), "resampler is closed");
  }

  Napi::Value Process(const Napi::CallbackInfo& info) {
    Check(info);
    auto in = Samples(info, 0, "input");
    auto out = Samples(info, 1, "output");
    spx_uint32_t in_len = static_cast<spx_uint32_t>(in.ElementLength());
    spx_uint32_t out_len = static_cast<spx_uint32_t>(out.ElementLength());
    int err = speex_resampler_process_int(st_, 0, in.Data(), &in_len, out.Data(), &out_len);
    if (err != RESAMPLER_ERR_SUCCESS) throw Napi::Error::New(info.Env(), std::string("resampler: ") + speex_resampler_strerror(err));
    if (in_len != in.ElementLength()) throw Napi::RangeError::New(info.Env(), "output buffer too small for the converted input");
    return Napi::Number::New(info.Env(), out_len);
  }

  Napi::Value SkipZeros(const Napi::CallbackInfo& info) {
    Check(info);
    speex_resampler_skip_zeros(st_);
    return info.Env().Undefined();
  }

  Napi::Value Reset(const Napi::CallbackInfo& info) {
    Check(info);
    speex_resampler_reset_mem(st_);
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Free();
    return info.Env().Undefined();
  }

  Napi::Value InputLatency(const Napi::CallbackInfo& info) {
    Check(info);
    return Napi::Number::New(info.Env(), speex_resampler_get_input_latency(st_));
  }

  Napi::Value OutputLatency(const Napi::CallbackInfo& info) {
    Check(info);
    return Napi::Number::New(info.Env(), speex_resampler_get_output_latency(st_));
  }

  SpeexResamplerState* st_ = nullptr;
};


// ---------------------------------------------------------------------------
// AlsaOutput(device, rate, latencyMs): mono 16-bit playback for the mixer.
//   write(samples): hands the frame to ALSA at once, from the calling thread,
//     never blocking (the device opened non-blocking); returns the samples
//     taken (0 when the device buffer is full: the frame is dropped, as a
//     stuck device must not stall the media clock). An underrun is recovered
//     and the write tried again once.
//   queued(): samples waiting in the device buffer; close().
// The `speaker` module writes each frame through the libuv thread pool (a
// promise, a work item and a thread wake-up per 10 ms frame), which cost more
// than mixing the frame; a non-blocking snd_pcm_writei costs a copy.
// libasound is opened with dlopen at the first AlsaOutput, so the addon needs
// neither ALSA's headers to build nor the library to load: the DSP classes
// work on a machine without ALSA, and AlsaOutput then throws saying why.
struct snd_pcm_t;
struct AlsaLib {
  void* lib = nullptr;
  std::string error;
  int (*open)(snd_pcm_t**, const char*, int, int) = nullptr;
  int (*set_params)(snd_pcm_t*, int, int, unsigned, unsigned, int, unsigned) = nullptr;
  long (*writei)(snd_pcm_t*, const void*, unsigned long) = nullptr;
  int (*recover)(snd_pcm_t*, int, int) = nullptr;
  int (*close)(snd_pcm_t*) = nullptr;
  int (*delay)(snd_pcm_t*, long*) = nullptr;
  const char* (*strerror)(int) = nullptr;
};

// ALSA's ABI values (alsa/pcm.h), stable since ALSA 1.0
constexpr int kStreamPlayback = 0;   // SND_PCM_STREAM_PLAYBACK
constexpr int kNonBlock = 1;         // SND_PCM_NONBLOCK
constexpr int kFormatS16LE = 2;      // SND_PCM_FORMAT_S16_LE
constexpr int kAccessRwInterleaved = 3;  // SND_PCM_ACCESS_RW_INTERLEAVED

AlsaLib& Alsa() {
  static AlsaLib a;
  static bool tried = false;
  if (tried) return a;
  tried = true;
  a.lib = dlopen("libasound.so.2", RTLD_NOW | RTLD_LOCAL);
  if (!a.lib) {
    a.error = std::string("cannot load libasound.so.2: ") + dlerror();
    return a;
  }
  bool ok = true;
  auto sym = [&](auto& fn, const char* name) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(a.lib, name));
    if (!fn) ok = false;
  };
  sym(a.open, "snd_pcm_open");
  sym(a.set_params, "snd_pcm_set_params");
  sym(a.writei, "snd_pcm_writei");
  sym(a.recover, "snd_pcm_recover");
  sym(a.close, "snd_pcm_close");
  sym(a.delay, "snd_pcm_delay");
  sym(a.strerror, "snd_strerror");
  if (!ok) {
    a.error = "libasound.so.2 lacks a snd_pcm function";
    dlclose(a.lib);
    a.lib = nullptr;
  }
  return a;
}

class AlsaOutput : public Napi::ObjectWrap<AlsaOutput> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "AlsaOutput",
                       {InstanceMethod("write", &AlsaOutput::Write), InstanceMethod("queued", &AlsaOutput::Queued),
                        InstanceMethod("close", &AlsaOutput::Close)});
  }

  AlsaOutput(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AlsaOutput>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "device must be a string");
    std::string device = info[0].As<Napi::String>().Utf8Value();
    unsigned rate = static_cast<unsigned>(Int(info, 1, "rate", 4000, 192000));
    unsigned latencyMs = static_cast<unsigned>(Int(info, 2, "latencyMs", 5, 2000));
    AlsaLib& a = Alsa();
    if (!a.lib) throw Napi::Error::New(env, a.error);
    int r = a.open(&pcm_, device.c_str(), kStreamPlayback, kNonBlock);
    if (r < 0) {
      pcm_ = nullptr;
      throw Napi::Error::New(env, "snd_pcm_open " + device + ": " + a.strerror(r));
    }
    r = a.set_params(pcm_, kFormatS16LE, kAccessRwInterleaved, 1, rate, 1, latencyMs * 1000);
    if (r < 0) {
      a.close(pcm_);
      pcm_ = nullptr;
      throw Napi::Error::New(env, "snd_pcm_set_params " + device + ": " + a.strerror(r));
    }
  }

  ~AlsaOutput() { Release(); }

 private:
  void Release() {
    if (pcm_) Alsa().close(pcm_);
    pcm_ = nullptr;
  }

  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Int16Array s = Samples(info, 0, "samples");
    if (!pcm_) throw Napi::Error::New(info.Env(), "AlsaOutput is closed");
    AlsaLib& a = Alsa();
    long n = a.writei(pcm_, s.Data(), s.ElementLength());
    if (n == -EPIPE || n == -ESTRPIPE) {
      // underrun (or suspend): prepare the device and try once more
      if (a.recover(pcm_, static_cast<int>(n), 1) == 0) n = a.writei(pcm_, s.Data(), s.ElementLength());
    }
    if (n == -EAGAIN) n = 0;
    if (n < 0) throw Napi::Error::New(info.Env(), std::string("snd_pcm_writei: ") + a.strerror(static_cast<int>(n)));
    return Napi::Number::New(info.Env(), static_cast<double>(n));
  }

  Napi::Value Queued(const Napi::CallbackInfo& info) {
    long d = 0;
    if (!pcm_ || Alsa().delay(pcm_, &d) < 0) d = 0;
    return Napi::Number::New(info.Env(), static_cast<double>(d));
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  snd_pcm_t* pcm_ = nullptr;
};

// ---------------------------------------------------------------------------
// threadPoolIds(count, timeoutMs): Promise<number[]>
//   The kernel thread ids of libuv's worker threads (the pool behind file I/O
//   and DNS). Node 20 names none of its threads, so a process cannot tell
//   these from V8's background threads by looking: this queues `count` jobs
//   that each wait, up to timeoutMs, until all of them run at once, so with
//   count = the pool's size each job sits on a different worker. Resolves
//   with each job's thread id (repeats mean they did not all meet in time).
struct PoolMeeting {
  std::mutex m;
  std::condition_variable cv;
  int arrived = 0;
  int count = 0;
  int finished = 0;
  std::vector<double> ids;
  explicit PoolMeeting(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise::Deferred deferred;
};

class PoolProbe : public Napi::AsyncWorker {
 public:
  PoolProbe(Napi::Env env, std::shared_ptr<PoolMeeting> meeting, int timeoutMs)
      : Napi::AsyncWorker(env, "helppoint-dsp:threadPoolIds"), meeting_(std::move(meeting)), timeout_(timeoutMs) {}

  void Execute() override {
    tid_ = static_cast<double>(syscall(SYS_gettid));
    std::unique_lock<std::mutex> lock(meeting_->m);
    meeting_->arrived++;
    meeting_->cv.notify_all();
    meeting_->cv.wait_for(lock, std::chrono::milliseconds(timeout_), [this] { return meeting_->arrived >= meeting_->count; });
  }

  void OnOK() override { Done(); }
  void OnError(const Napi::Error&) override { Done(); }

 private:
  void Done() {
    meeting_->ids.push_back(tid_);
    if (++meeting_->finished < meeting_->count) return;
    Napi::Env env = Env();
    Napi::Array out = Napi::Array::New(env, meeting_->ids.size());
    for (size_t i = 0; i < meeting_->ids.size(); i++) out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, meeting_->ids[i]));
    meeting_->deferred.Resolve(out);
  }

  std::shared_ptr<PoolMeeting> meeting_;
  int timeout_;
  double tid_ = 0;
};

Napi::Value ThreadPoolIds(const Napi::CallbackInfo& info) {
  int count = Int(info, 0, "count", 1, 1024);
  int timeoutMs = Int(info, 1, "timeoutMs", 1, 10000);
  auto meeting = std::make_shared<PoolMeeting>(info.Env());
  meeting->count = count;
  for (int i = 0; i < count; i++) (new PoolProbe(info.Env(), meeting, timeoutMs))->Queue();
  return meeting->deferred.Promise();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("EchoCanceller", EchoCanceller::Init(env));
  exports.Set("Preprocessor", Preprocessor::Init(env));
  exports.Set("Resampler", Resampler::Init(env));
  exports.Set("AlsaOutput", AlsaOutput::Init(env));
  exports.Set("UdpSocket", helppoint::InitUdpSocket(env));
  exports.Set("MediaTimer", helppoint::InitMediaTimer(env));
  exports.Set("threadPoolIds", Napi::Function::New(env, ThreadPoolIds, "threadPoolIds"));
  exports.Set("speexdsp", Napi::String::New(env, "libspeexdsp"));
  return exports;
}

}  // namespace

NODE_API_MODULE(helppoint_dsp, Init)
