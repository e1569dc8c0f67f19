//! Waiting for a process to end on the kernel's word: a pidfd becomes readable
//! when its process exits (a zombie has exited), so no guessed sleep is needed.

use std::time::Duration;

/// Whether `pid` ends (or has already ended) within `timeout`.
pub fn exits_within(pid: i32, timeout: Duration) -> bool {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        let err = std::io::Error::last_os_error();
        assert_eq!(
            err.raw_os_error(),
            Some(libc::ESRCH),
            "pidfd_open({pid}) failed: {err}"
        );
        return true; // no such process: it has ended and been reaped
    }
    let fd = fd as libc::c_int;
    let mut poll = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let millis = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
    // SAFETY: `poll` points to one valid pollfd for the duration of the call;
    // `fd` is ours and closed once.
    let ready = unsafe {
        let ready = libc::poll(&mut poll, 1, millis);
        libc::close(fd);
        ready
    };
    assert!(ready >= 0, "poll on the pidfd of {pid} failed");
    ready == 1
}

/// Whether `pid` is still running 10 s from now (SIGKILL delivery is
/// asynchronous). A zombie counts as ended.
pub fn survives(pid: i32) -> bool {
    !exits_within(pid, Duration::from_secs(10))
}
