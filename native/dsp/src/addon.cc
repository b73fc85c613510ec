// Node-API bindings for libspeexdsp: the acoustic echo canceller (MDF), the
// preprocessor (noise suppression, automatic gain, residual echo
// suppression) and the resampler. Every call works on caller-owned Int16Array
// buffers and returns a number, so a 20 ms frame costs no JavaScript
// allocation: the hot path of a call never feeds the garbage collector.
#include <napi.h>

#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>
#include <speex/speex_resampler.h>

#include <string>

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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("EchoCanceller", EchoCanceller::Init(env));
  exports.Set("Preprocessor", Preprocessor::Init(env));
  exports.Set("Resampler", Resampler::Init(env));
  exports.Set("speexdsp", Napi::String::New(env, "libspeexdsp"));
  return exports;
}

}  // namespace

NODE_API_MODULE(helppoint_dsp, Init)
