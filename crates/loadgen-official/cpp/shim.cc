// A flat C ABI over the official LoadGen's C++ API, so Rust can drive it
// without C++ types crossing the boundary. Our code, not LoadGen's: it sits
// where the Python bindings sit and changes nothing in LoadGen's records.
//
// No C++ exception leaves these functions (each catches everything and
// returns a code), and the Rust callbacks never unwind (they catch panics).
// Never include mlperf_conf.h here: it defines a global that LoadGen's own
// test_settings_internal.cc already defines.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "loadgen.h"
#include "query_sample.h"
#include "query_sample_library.h"
#include "system_under_test.h"
#include "test_settings.h"
#include "version.h"

extern "C" {

// One issued sample: LoadGen's QuerySample, field for field.
struct lg_sample {
  uint64_t id;
  uint64_t index;
};

// One response: LoadGen's QuerySampleResponse, field for field.
struct lg_response {
  uint64_t id;
  uint64_t data;
  uint64_t size;
  int64_t n_tokens;
};

// The SUT and QSL callbacks, all called on the thread running lg_start_test.
struct lg_callbacks {
  void* ctx;
  void (*issue)(void* ctx, const lg_sample* samples, size_t count);
  void (*flush)(void* ctx);
  void (*load)(void* ctx, const size_t* indices, size_t count);
  void (*unload)(void* ctx, const size_t* indices, size_t count);
};

struct lg_params {
  const char* sut_name;
  const char* qsl_name;
  size_t total_sample_count;
  size_t performance_sample_count;
  const char* model;     // the config model name, e.g. gpt-oss-120b
  int scenario;          // mlperf::TestScenario
  int mode;              // mlperf::TestMode
  const char* mlperf_conf;   // NULL: the mlperf.conf compiled into LoadGen
  const char* user_conf;     // NULL: none
  const char* audit_config;  // NULL or "": none (never ./audit.config implicitly)
  const char* outdir;        // must exist
  const char* prefix;
  const char* suffix;
  int enable_trace;
};

}  // extern "C"

static_assert(sizeof(lg_sample) == sizeof(mlperf::QuerySample), "QuerySample layout");
static_assert(sizeof(mlperf::ResponseId) == sizeof(uint64_t), "64-bit ids");
static_assert(sizeof(mlperf::QuerySampleIndex) == sizeof(uint64_t), "64-bit indices");
static_assert(sizeof(lg_response) == sizeof(mlperf::QuerySampleResponse), "QuerySampleResponse layout");
static_assert(offsetof(mlperf::QuerySampleResponse, n_tokens) == offsetof(lg_response, n_tokens),
              "QuerySampleResponse layout");
static_assert(offsetof(mlperf::QuerySample, index) == offsetof(lg_sample, index), "QuerySample layout");

namespace {

// Return codes of lg_start_test.
constexpr int kOk = 0;
constexpr int kConfigError = 1;
constexpr int kException = 2;
constexpr int kBadParams = 3;

void set_error(char* err, size_t len, const std::string& what) {
  if (err == nullptr || len == 0) return;
  std::snprintf(err, len, "%s", what.c_str());
}

const char* scenario_name(mlperf::TestScenario s) {
  switch (s) {
    case mlperf::TestScenario::SingleStream: return "SingleStream";
    case mlperf::TestScenario::MultiStream: return "MultiStream";
    case mlperf::TestScenario::Server: return "Server";
    case mlperf::TestScenario::Offline: return "Offline";
  }
  return "";
}

class Sut : public mlperf::SystemUnderTest {
 public:
  Sut(std::string name, const lg_callbacks* cb) : name_(std::move(name)), cb_(cb) {}
  const std::string& Name() override { return name_; }
  void IssueQuery(const std::vector<mlperf::QuerySample>& samples) override {
    cb_->issue(cb_->ctx, reinterpret_cast<const lg_sample*>(samples.data()), samples.size());
  }
  void FlushQueries() override { cb_->flush(cb_->ctx); }

 private:
  std::string name_;
  const lg_callbacks* cb_;
};

class Qsl : public mlperf::QuerySampleLibrary {
 public:
  Qsl(std::string name, size_t total, size_t perf, const lg_callbacks* cb)
      : name_(std::move(name)), total_(total), perf_(perf), cb_(cb) {}
  const std::string& Name() override { return name_; }
  size_t TotalSampleCount() override { return total_; }
  size_t PerformanceSampleCount() override { return perf_; }
  void LoadSamplesToRam(const std::vector<mlperf::QuerySampleIndex>& s) override {
    cb_->load(cb_->ctx, s.data(), s.size());
  }
  void UnloadSamplesFromRam(const std::vector<mlperf::QuerySampleIndex>& s) override {
    cb_->unload(cb_->ctx, s.data(), s.size());
  }

 private:
  std::string name_;
  size_t total_, perf_;
  const lg_callbacks* cb_;
};

bool given(const char* s) { return s != nullptr && s[0] != '\0'; }

// Applies the config files as a submission harness does: user.conf through
// FromConfig, which loads the built-in mlperf.conf first. A replacement
// mlperf.conf (not valid for a submission) goes between the two.
int configure(mlperf::TestSettings& settings, const lg_params* p, char* err, size_t len) {
  const std::string model = p->model;
  const std::string scenario = scenario_name(settings.scenario);
  if (given(p->mlperf_conf)) {
    settings.FromConfig("", model, scenario, 0);
    if (int rc = settings.FromConfig(p->mlperf_conf, model, scenario, 2)) {
      set_error(err, len, std::string("mlperf.conf\t") + p->mlperf_conf + "\t" + std::to_string(rc));
      return kConfigError;
    }
    if (given(p->user_conf)) {
      if (int rc = settings.FromConfig(p->user_conf, model, scenario, 2)) {
        set_error(err, len, std::string("user.conf\t") + p->user_conf + "\t" + std::to_string(rc));
        return kConfigError;
      }
    }
  } else if (given(p->user_conf)) {
    if (int rc = settings.FromConfig(p->user_conf, model, scenario, 1)) {
      set_error(err, len, std::string("user.conf\t") + p->user_conf + "\t" + std::to_string(rc));
      return kConfigError;
    }
  } else {
    settings.FromConfig("", model, scenario, 0);
  }
  return kOk;
}

}  // namespace

extern "C" {

// Runs one LoadGen test to its end. Returns 0, or a code with a message in err.
int lg_start_test(const lg_params* p, const lg_callbacks* cb, char* err, size_t err_len) {
  try {
    if (p == nullptr || cb == nullptr || p->model == nullptr || p->outdir == nullptr ||
        cb->issue == nullptr || cb->flush == nullptr || cb->load == nullptr ||
        cb->unload == nullptr || p->scenario < 0 || p->scenario > 3 || p->mode < 0 ||
        p->mode > 3) {
      set_error(err, err_len, "invalid parameters");
      return kBadParams;
    }
    mlperf::TestSettings settings{};
    settings.scenario = static_cast<mlperf::TestScenario>(p->scenario);
    settings.mode = static_cast<mlperf::TestMode>(p->mode);
    if (int rc = configure(settings, p, err, err_len)) return rc;

    mlperf::LogSettings log{};
    log.log_output.outdir = p->outdir;
    if (p->prefix != nullptr) log.log_output.prefix = p->prefix;
    if (p->suffix != nullptr) log.log_output.suffix = p->suffix;
    log.enable_trace = p->enable_trace != 0;

    Sut sut(p->sut_name ? p->sut_name : "SUT", cb);
    Qsl qsl(p->qsl_name ? p->qsl_name : "QSL", p->total_sample_count,
            p->performance_sample_count, cb);
    mlperf::StartTest(&sut, &qsl, settings, log, given(p->audit_config) ? p->audit_config : "");
    return kOk;
  } catch (const std::exception& e) {
    set_error(err, err_len, std::string("C++ exception: ") + e.what());
  } catch (...) {
    set_error(err, err_len, "unknown C++ exception");
  }
  return kException;
}

// LoadGen's QuerySamplesComplete; 0, or 1 if it threw.
int lg_query_samples_complete(lg_response* responses, size_t count) {
  try {
    mlperf::QuerySamplesComplete(reinterpret_cast<mlperf::QuerySampleResponse*>(responses), count);
    return 0;
  } catch (...) {
    return 1;
  }
}

// LoadGen's FirstTokenComplete; 0, or 1 if it threw.
int lg_first_token_complete(lg_response* responses, size_t count) {
  try {
    mlperf::FirstTokenComplete(reinterpret_cast<mlperf::QuerySampleResponse*>(responses), count);
    return 0;
  } catch (...) {
    return 1;
  }
}

// "<version> @ <git revision>" as LoadGen logs it in loadgen_version; the
// length it needs (without the NUL), or 0 on failure.
size_t lg_version(char* buf, size_t len) {
  try {
    std::string v = mlperf::LoadgenVersion() + " @ " + mlperf::LoadgenGitRevision();
    set_error(buf, len, v);
    return v.size();
  } catch (...) {
    return 0;
  }
}

}  // extern "C"
