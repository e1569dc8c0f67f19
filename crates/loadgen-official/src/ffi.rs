//! The C ABI of `cpp/shim.cc`, mirrored field for field (the shim
//! `static_assert`s the layouts against LoadGen's own types).

use std::ffi::{c_char, c_int, c_void};

/// LoadGen's `QuerySample`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct LgSample {
    pub id: u64,
    pub index: u64,
}

/// LoadGen's `QuerySampleResponse`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct LgResponse {
    pub id: u64,
    pub data: u64,
    pub size: u64,
    pub n_tokens: i64,
}

/// The SUT/QSL callbacks; LoadGen calls them on the thread running the test.
#[repr(C)]
pub struct LgCallbacks {
    pub ctx: *mut c_void,
    pub issue: unsafe extern "C" fn(*mut c_void, *const LgSample, usize),
    pub flush: unsafe extern "C" fn(*mut c_void),
    pub load: unsafe extern "C" fn(*mut c_void, *const usize, usize),
    pub unload: unsafe extern "C" fn(*mut c_void, *const usize, usize),
}

/// What one test needs; strings are NUL-terminated, optional ones may be null.
#[repr(C)]
pub struct LgParams {
    pub sut_name: *const c_char,
    pub qsl_name: *const c_char,
    pub total_sample_count: usize,
    pub performance_sample_count: usize,
    pub model: *const c_char,
    pub scenario: c_int,
    pub mode: c_int,
    pub mlperf_conf: *const c_char,
    pub user_conf: *const c_char,
    pub audit_config: *const c_char,
    pub outdir: *const c_char,
    pub prefix: *const c_char,
    pub suffix: *const c_char,
    pub enable_trace: c_int,
}

/// `lg_start_test` return codes.
pub const LG_OK: c_int = 0;
pub const LG_CONFIG_ERROR: c_int = 1;

#[cfg(feature = "official")]
mod shim {
    use super::*;
    extern "C" {
        pub fn lg_start_test(
            params: *const LgParams,
            callbacks: *const LgCallbacks,
            err: *mut c_char,
            err_len: usize,
        ) -> c_int;
        pub fn lg_query_samples_complete(responses: *mut LgResponse, count: usize) -> c_int;
        pub fn lg_first_token_complete(responses: *mut LgResponse, count: usize) -> c_int;
        pub fn lg_version(buf: *mut c_char, len: usize) -> usize;
    }
}

/// Runs `lg_start_test`: its return code and error text.
///
/// # Safety
/// Every pointer in `params` and `callbacks` stays valid until it returns.
pub unsafe fn start_test(params: &LgParams, callbacks: &LgCallbacks) -> (c_int, String) {
    let mut err = vec![0u8; 4096];
    #[cfg(feature = "official")]
    let rc = shim::lg_start_test(params, callbacks, err.as_mut_ptr().cast(), err.len());
    #[cfg(not(feature = "official"))]
    let rc = {
        let _ = (params, callbacks);
        let message = b"not built with the official LoadGen";
        err[..message.len()].copy_from_slice(message);
        -1
    };
    let end = err.iter().position(|&b| b == 0).unwrap_or(err.len());
    (rc, String::from_utf8_lossy(&err[..end]).into_owned())
}

/// LoadGen's `QuerySamplesComplete` for one response; false if it failed.
///
/// # Safety
/// `response.id` is outstanding in the running test and `response.data`
/// points at `response.size` readable bytes.
pub unsafe fn query_samples_complete(response: &mut LgResponse) -> bool {
    #[cfg(feature = "official")]
    return shim::lg_query_samples_complete(response, 1) == 0;
    #[cfg(not(feature = "official"))]
    {
        let _ = response;
        false
    }
}

/// LoadGen's `FirstTokenComplete` for one response; false if it failed.
///
/// # Safety
/// As [`query_samples_complete`].
pub unsafe fn first_token_complete(response: &mut LgResponse) -> bool {
    #[cfg(feature = "official")]
    return shim::lg_first_token_complete(response, 1) == 0;
    #[cfg(not(feature = "official"))]
    {
        let _ = response;
        false
    }
}

/// `"<version> @ <revision>"` from the compiled-in LoadGen.
pub fn version() -> Option<String> {
    #[cfg(feature = "official")]
    {
        let mut buf = vec![0u8; 256];
        // SAFETY: the buffer is writable for its length; the shim NUL-terminates.
        let n = unsafe { shim::lg_version(buf.as_mut_ptr().cast(), buf.len()) };
        if n == 0 || n >= buf.len() {
            return None;
        }
        buf.truncate(n);
        String::from_utf8(buf).ok()
    }
    #[cfg(not(feature = "official"))]
    None
}
