//! Keeping the schedule: waiting for a query's time without burning a core
//! and without the kernel's default timer slack making every wake-up late.

use std::time::{Duration, Instant};

/// `start + ns`, saturating instead of panicking for absurd schedules.
pub(super) fn at_offset(start: Instant, ns: u64) -> Instant {
    let mut d = Duration::from_nanos(ns);
    loop {
        if let Some(t) = start.checked_add(d) {
            return t;
        }
        d /= 2;
    }
}

/// Signed `a − b` in ns (a SUT may report before a query's scheduled time).
pub(super) fn signed_ns(a: Instant, b: Instant) -> i64 {
    if a >= b {
        (a - b).as_nanos() as i64
    } else {
        -((b - a).as_nanos() as i64)
    }
}

/// Sleeps most of the way to `target`, then spins: spinning alone would
/// take the CPU from the SUT, sleeping alone overshoots by the timer slack.
pub(super) fn wait_until(target: Instant) {
    loop {
        let now = Instant::now();
        if now >= target {
            return;
        }
        let left = target - now;
        if left > Duration::from_micros(40) {
            std::thread::sleep(left - Duration::from_micros(25));
        } else {
            std::hint::spin_loop();
        }
    }
}

/// Linux timer slack for the issuing thread: the default 50 µs would make
/// every sleep up to 50 µs late. Restored when dropped.
pub(super) struct TimerSlack(#[cfg_attr(not(target_os = "linux"), allow(dead_code))] Option<u64>);

impl TimerSlack {
    /// Sets this thread's timer slack to 1 ns, remembering the old value.
    pub(super) fn tighten() -> Self {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: PR_GET/SET_TIMERSLACK only read or set a per-thread
            // integer; no memory is passed. The unused arguments are passed
            // as 64-bit zeros, the width the kernel reads them with.
            let old = unsafe { libc::prctl(libc::PR_GET_TIMERSLACK, 0u64, 0u64, 0u64, 0u64) };
            if old > 0
                && unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1u64, 0u64, 0u64, 0u64) } == 0
            {
                return TimerSlack(Some(old as u64));
            }
        }
        TimerSlack(None)
    }
}

impl Drop for TimerSlack {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if let Some(old) = self.0 {
            // SAFETY: as above.
            unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, old, 0u64, 0u64, 0u64) };
        }
    }
}
