//! Running an untrusted program (model-written Python for LiveCodeBench) with
//! limits, capturing stdout, stderr, exit status and timeout.
//!
//! [`Sandbox::run`] starts `argv` with the given stdin and:
//!
//! - **its own session and process group** (`setsid` in the child); on timeout,
//!   and also after a normal exit, the whole group gets `SIGKILL`, so children and
//!   grandchildren left behind die with the run. The child is not reaped before
//!   the group is killed (`waitid(WNOWAIT)`), so the group id cannot be reused by
//!   an unrelated process in between.
//! - **rlimits** set in the child before `exec`: CPU seconds, address space,
//!   processes, file size, open files, no core dumps ([`Limits`]).
//! - **a fresh uid/gid when the caller is root** ([`Sandbox::drop_privileges`], on
//!   by default): root ignores `RLIMIT_NPROC` (a fork bomb would not be stopped)
//!   and can write anywhere; a fresh unprivileged uid makes the process limit
//!   count, keeps the program from writing to files and directories that are not
//!   world-writable, and from signalling any other process. After the run every
//!   process of that uid is killed (`kill(-1, SIGKILL)` from a helper running as
//!   that uid), which also catches processes that left the group with `setsid`.
//! - **a private temporary directory** as working directory, `HOME` and `TMPDIR`
//!   (owned by the fresh uid, mode 0700), removed after the run.
//! - **a clean environment**: only `PATH`, `LANG`, `HOME`, `TMPDIR`,
//!   `PYTHONDONTWRITEBYTECODE`, `OMP_NUM_THREADS` and what [`Sandbox::env`] adds.
//! - **no network**: `unshare(CLONE_NEWNET)` in the child (as root), leaving it
//!   with only a loopback interface that is down. Where the kernel refuses (or the
//!   caller is not root), the program runs anyway and
//!   [`Outcome::network_isolated`] is `false`, with a warning in
//!   [`Outcome::warnings`] and logged with `tracing` (unless the caller reports
//!   them itself, [`Sandbox::log_warnings`]): never silently.
//! - **output caps**: stdout and stderr are kept up to [`Limits::output_bytes`]
//!   each (the rest is read and discarded so the program does not block), with
//!   [`Outcome::stdout_truncated`]/[`Outcome::stderr_truncated`].
//!
//! What is *not* isolated: the file system is the host's (no mount namespace or
//! chroot); the program can read every file its uid may read (world-readable
//! files), and can write to world-writable places such as `/tmp` and `/dev/shm`
//! (those files are not removed; `RLIMIT_FSIZE` bounds each file's size, not their
//! number). Without root there is no uid change, so the program runs as the
//! caller: it can write wherever the caller can, `RLIMIT_NPROC` counts all the
//! caller's processes, and a process that calls `setsid` escapes the group kill.
//! No cgroup: memory is bounded per process by `RLIMIT_AS`, not in total. IPC
//! namespaces, seccomp and `/proc` hiding are not used.
//!
//! ```no_run
//! let sandbox = eval::sandbox::Sandbox::new();
//! let out = sandbox.run(&["python3", "-c", "print(input()[::-1])"], b"abc\n", &[])?;
//! assert_eq!(out.stdout, b"cba\n");
//! # Ok::<(), std::io::Error>(())
//! ```

use std::ffi::{OsStr, OsString};
use std::io::{self, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Resource limits of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock limit; the process group is killed when it passes.
    pub wall: Duration,
    /// `RLIMIT_CPU`, seconds (the kernel sends `SIGXCPU`, then `SIGKILL`).
    pub cpu_seconds: u64,
    /// `RLIMIT_AS`, bytes of address space per process.
    pub address_space: u64,
    /// `RLIMIT_NPROC`: processes (and threads) of the run's uid. Not enforced by
    /// the kernel for root, hence [`Sandbox::drop_privileges`].
    pub processes: u64,
    /// `RLIMIT_FSIZE`, bytes per written file.
    pub file_size: u64,
    /// `RLIMIT_NOFILE`, open file descriptors per process.
    pub open_files: u64,
    /// Bytes kept of stdout and of stderr each.
    pub output_bytes: usize,
}

impl Default for Limits {
    /// 60 s wall (LiveCodeBench's per-test timeout), 61 CPU seconds, 4 GiB of
    /// address space, 64 processes, 64 MiB files, 256 open files, 16 MiB output.
    fn default() -> Self {
        Limits {
            wall: Duration::from_secs(60),
            cpu_seconds: 61,
            address_space: 4 << 30,
            processes: 64,
            file_size: 64 << 20,
            open_files: 256,
            output_bytes: 16 << 20,
        }
    }
}

/// How to run untrusted programs. Cheap to clone; one value may run many
/// programs, from many threads.
#[derive(Clone, Debug)]
pub struct Sandbox {
    /// Limits of each run.
    pub limits: Limits,
    /// Where the private directories are created (default: the system temp dir).
    /// Must be traversable by other users when privileges are dropped.
    pub parent_dir: Option<PathBuf>,
    /// Run in a new network namespace (default true).
    pub isolate_network: bool,
    /// When the caller is root, run as a fresh unprivileged uid/gid (default true).
    pub drop_privileges: bool,
    /// Extra environment variables (on top of the minimal set).
    pub env: Vec<(OsString, OsString)>,
    /// Log each run's warnings with `tracing` (default true). A caller running
    /// thousands of programs turns this off and reports [`Outcome::warnings`] once.
    pub log_warnings: bool,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

/// The result of one run.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The exit status (`None` when killed by the wall-clock timeout).
    pub status: Option<ExitStatus>,
    /// The wall-clock limit passed and the group was killed.
    pub timed_out: bool,
    /// Captured stdout, at most [`Limits::output_bytes`].
    pub stdout: Vec<u8>,
    /// Captured stderr, at most [`Limits::output_bytes`].
    pub stderr: Vec<u8>,
    /// stdout had more bytes than kept.
    pub stdout_truncated: bool,
    /// stderr had more bytes than kept.
    pub stderr_truncated: bool,
    /// The program ran in a new network namespace.
    pub network_isolated: bool,
    /// The uid it ran as, when privileges were dropped.
    pub uid: Option<u32>,
    /// Isolation that could not be applied, and other anomalies (also printed to
    /// stderr). Empty when everything held.
    pub warnings: Vec<String>,
    /// Wall-clock time of the run.
    pub elapsed: Duration,
}

impl Outcome {
    /// Exited by itself with status 0.
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// The exit code, when it exited normally.
    pub fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }

    /// The signal that ended it, when it was killed by a signal (not counting the
    /// timeout kill).
    pub fn signal(&self) -> Option<i32> {
        self.status.and_then(|s| s.signal())
    }
}

/// First uid/gid of the range fresh ids are taken from (no passwd entries).
pub const UID_BASE: u32 = 0x5A00_0000;
static NEXT_ID: AtomicU32 = AtomicU32::new(0);

fn fresh_id() -> u32 {
    let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    UID_BASE + ((std::process::id().wrapping_mul(4096).wrapping_add(n)) & 0x00FF_FFFF)
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

impl Sandbox {
    /// Default limits, network isolation and privilege drop on.
    pub fn new() -> Self {
        Sandbox {
            limits: Limits::default(),
            parent_dir: None,
            isolate_network: true,
            drop_privileges: true,
            env: Vec::new(),
            log_warnings: true,
        }
    }

    /// With these limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Runs `argv` (program looked up in the sandbox's `PATH`) with `stdin`, after
    /// writing `files` (name relative to the private directory, contents) there.
    /// Errors only when the run could not be set up (program not found, temp dir);
    /// whatever the program does is in the [`Outcome`].
    pub fn run<S: AsRef<OsStr>>(
        &self,
        argv: &[S],
        stdin: &[u8],
        files: &[(&str, &[u8])],
    ) -> io::Result<Outcome> {
        let start = Instant::now();
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty argv"))?;
        let mut builder = tempfile::Builder::new();
        builder.prefix("sandbox-");
        let dir = match &self.parent_dir {
            Some(p) => builder.tempdir_in(p)?,
            None => builder.tempdir()?,
        };
        let ids = (self.drop_privileges && is_root()).then(fresh_id);
        for (name, contents) in files {
            let path = dir.path().join(name);
            if !path.starts_with(dir.path()) || Path::new(name).is_absolute() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "file outside dir",
                ));
            }
            std::fs::write(&path, contents)?;
            if let Some(id) = ids {
                std::os::unix::fs::chown(&path, Some(id), Some(id))?;
            }
        }
        if let Some(id) = ids {
            std::os::unix::fs::chown(dir.path(), Some(id), Some(id))?;
        }

        let mut warnings = Vec::new();
        let want_net = self.isolate_network;
        let mut net = want_net && is_root();
        if want_net && !net {
            warnings.push(
                "NO NETWORK ISOLATION: not root, no new network namespace; \
                 the program can reach the network"
                    .to_string(),
            );
        }
        let mut child = match self
            .command(program.as_ref(), args, dir.path(), ids, net)
            .spawn()
        {
            Err(e) if net && is_unshare_refusal(&e) => {
                net = false;
                warnings.push(format!(
                    "NO NETWORK ISOLATION: the kernel refused a new network namespace \
                     ({e}); the program can reach the network"
                ));
                self.command(program.as_ref(), args, dir.path(), ids, false)
                    .spawn()?
            }
            r => r?,
        };
        if self.log_warnings {
            for w in &warnings {
                tracing::warn!("sandbox: {w}");
            }
        }
        let pid = child.id() as libc::pid_t;

        let cap = self.limits.output_bytes;
        let out_rx = reader(child.stdout.take().expect("piped"), cap);
        let err_rx = reader(child.stderr.take().expect("piped"), cap);
        let mut input = child.stdin.take().expect("piped");
        let stdin = stdin.to_vec();
        // Detached: a program that never reads its stdin must not hold us.
        thread::spawn(move || {
            let _ = input.write_all(&stdin);
        });

        let deadline = start + self.limits.wall;
        let timed_out = wait_exit(pid, deadline)?;
        // SAFETY: kill has no memory-safety preconditions; `pid` is an unreaped
        // child of ours and leader of its own group, so `-pid` names that group.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
        let status = child.wait()?;
        if let Some(id) = ids {
            if let Err(e) = kill_uid(id) {
                warnings.push(format!("could not sweep processes of uid {id}: {e}"));
            }
        }
        let grace = Duration::from_secs(2);
        let (stdout, stdout_truncated) = out_rx.recv_timeout(grace).unwrap_or_else(|_| {
            warnings.push("stdout still held open by an escaped process".into());
            (Vec::new(), false)
        });
        let (stderr, stderr_truncated) = err_rx.recv_timeout(grace).unwrap_or_else(|_| {
            warnings.push("stderr still held open by an escaped process".into());
            (Vec::new(), false)
        });
        Ok(Outcome {
            status: (!timed_out).then_some(status),
            timed_out,
            stdout,
            stderr,
            stdout_truncated,
            stderr_truncated,
            network_isolated: net,
            uid: ids,
            warnings,
            elapsed: start.elapsed(),
        })
    }

    fn command(
        &self,
        program: &OsStr,
        args: &[impl AsRef<OsStr>],
        dir: &Path,
        ids: Option<u32>,
        net: bool,
    ) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(dir)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("LANG", "C.UTF-8")
            .env("HOME", dir)
            .env("TMPDIR", dir)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("OMP_NUM_THREADS", "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // A bare program name is looked up in the PATH set above (std uses the
        // child's PATH when one is set explicitly).
        let l = &self.limits;
        let rlimits = [
            (libc::RLIMIT_CPU, l.cpu_seconds),
            (libc::RLIMIT_AS, l.address_space),
            (libc::RLIMIT_NPROC, l.processes),
            (libc::RLIMIT_FSIZE, l.file_size),
            (libc::RLIMIT_NOFILE, l.open_files),
            (libc::RLIMIT_CORE, 0),
        ];
        // SAFETY: the closure only makes async-signal-safe system calls (setsid,
        // unshare, setrlimit, setgroups, setgid, setuid) on captured plain data; it
        // allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setsid() < 0 {
                    return Err(io::Error::last_os_error());
                }
                if net && libc::unshare(libc::CLONE_NEWNET) < 0 {
                    return Err(io::Error::last_os_error());
                }
                for (resource, value) in rlimits {
                    let lim = libc::rlimit {
                        rlim_cur: value as libc::rlim_t,
                        rlim_max: value as libc::rlim_t,
                    };
                    if libc::setrlimit(resource, &lim) < 0 {
                        return Err(io::Error::last_os_error());
                    }
                }
                if let Some(id) = ids {
                    if libc::setgroups(0, std::ptr::null()) < 0
                        || libc::setgid(id) < 0
                        || libc::setuid(id) < 0
                    {
                        return Err(io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        cmd
    }
}

/// A spawn error that comes from `unshare(CLONE_NEWNET)` being refused rather
/// than from the program (exec errors are ENOENT, EACCES, ENOEXEC, E2BIG...).
fn is_unshare_refusal(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EPERM | libc::EINVAL | libc::ENOSPC | libc::ENOSYS | libc::EUSERS)
    )
}

/// Reads a pipe to its end, keeping `cap` bytes; sends (kept, truncated).
fn reader(mut r: impl Read + Send + 'static, cap: usize) -> mpsc::Receiver<(Vec<u8>, bool)> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut kept = Vec::new();
        let mut truncated = false;
        let mut buf = [0u8; 64 * 1024];
        loop {
            match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let room = cap.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                    truncated |= n > room;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = tx.send((kept, truncated));
    });
    rx
}

/// Waits until `pid` exits (without reaping it) or `deadline` passes; returns
/// whether the deadline passed. With a pidfd (Linux 5.3+) `poll` wakes the
/// moment the child exits; otherwise the exit is polled with a short backoff.
fn wait_exit(pid: libc::pid_t, deadline: Instant) -> io::Result<bool> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as libc::c_int;
    if pidfd < 0 {
        return wait_exit_polling(pid, deadline);
    }
    let result = loop {
        match exited(pid) {
            Ok(true) => break Ok(false),
            Ok(false) => {}
            Err(e) => break Err(e),
        }
        let now = Instant::now();
        if now >= deadline {
            break Ok(true);
        }
        let ms = (deadline - now).as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
        let mut fd = libc::pollfd {
            fd: pidfd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: `fd` is one valid pollfd; EINTR just loops.
        if unsafe { libc::poll(&mut fd, 1, ms) } < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                break Err(e);
            }
        }
    };
    // SAFETY: closing the pidfd we opened above.
    unsafe { libc::close(pidfd) };
    result
}

fn wait_exit_polling(pid: libc::pid_t, deadline: Instant) -> io::Result<bool> {
    let mut pause = Duration::from_millis(1);
    loop {
        if exited(pid)? {
            return Ok(false);
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(true);
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Whether `pid` has exited, leaving it unreaped (`WNOWAIT`).
fn exited(pid: libc::pid_t) -> io::Result<bool> {
    loop {
        // SAFETY: a zeroed siginfo_t is a valid out-parameter for waitid.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is a valid, writable siginfo_t.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            )
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        // SAFETY: waitid filled `info` (si_pid stays 0 when nothing exited).
        return Ok(unsafe { info.si_pid() } != 0);
    }
}

/// Sweeps of [`kill_uid`].
const SWEEPS: usize = 4;

/// Kills every process of uid `id`: a helper that becomes `id` calls
/// `kill(-1, SIGKILL)` (which spares only itself) [`SWEEPS`] times.
fn kill_uid(id: u32) -> io::Result<()> {
    let mut cmd = Command::new("/bin/true");
    cmd.env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: only async-signal-safe system calls on plain data.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setgroups(0, std::ptr::null()) < 0
                || libc::setgid(id) < 0
                || libc::setuid(id) < 0
            {
                return Err(io::Error::last_os_error());
            }
            // kill(-1) reports success whenever the system has any other
            // process (EPERM targets count), so its result cannot tell when
            // this uid has none left. One sweep suffices in principle (the
            // kernel fails a fork whose parent has a fatal signal pending);
            // a few more are cheap insurance against a racing fork.
            for _ in 0..SWEEPS {
                libc::kill(-1, libc::SIGKILL);
            }
            Ok(())
        });
    }
    let mut child: Child = cmd.spawn()?;
    child.wait()?;
    Ok(())
}
