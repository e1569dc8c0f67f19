//! Ctrl-C (or SIGTERM) during a run. The first asks the run to end early but
//! cleanly: the SUT answers every sample not answered yet at once, so LoadGen
//! finishes and writes its logs. The second quits at once; `samples.jsonl`
//! already holds every sample that finished.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Once, OnceLock};

use tokio::sync::watch;

/// The process's interrupt state, shared by the signal handler, the live
/// view (where Ctrl-C arrives as a key) and the SUT.
pub struct Interrupt {
    presses: AtomicU32,
    requested: watch::Sender<bool>,
}

/// The interrupt state, with the Ctrl-C / SIGTERM handler installed on first use.
pub fn interrupt() -> &'static Interrupt {
    static INTERRUPT: OnceLock<Interrupt> = OnceLock::new();
    static HANDLER: Once = Once::new();
    let state = INTERRUPT.get_or_init(|| Interrupt {
        presses: AtomicU32::new(0),
        requested: watch::Sender::new(false),
    });
    HANDLER.call_once(|| {
        if let Err(e) = ctrlc::set_handler(|| interrupt().press()) {
            tracing::warn!("Ctrl-C will stop the process at once, without logs: {e}");
        }
    });
    state
}

impl Interrupt {
    /// One Ctrl-C: the first requests the clean end, the second quits now.
    pub fn press(&self) {
        if self.presses.fetch_add(1, Ordering::SeqCst) == 0 {
            self.requested.send_replace(true);
            // On the full screen the view says it once it has left the screen.
            if !crate::progress::full_screen() {
                eprintln!("{}", crate::progress::INTERRUPTED);
            }
            return;
        }
        crate::progress::restore();
        eprintln!(
            "interrupted twice: quitting without LoadGen's logs; samples.jsonl holds every finished sample"
        );
        std::process::exit(130);
    }

    /// Whether the run was asked to end.
    pub fn requested(&self) -> bool {
        *self.requested.borrow()
    }

    /// Resolves once the run is asked to end.
    pub async fn wait(&self) {
        let mut requested = self.requested.subscribe();
        // The sender lives in a static, so it is never dropped.
        let _ = requested.wait_for(|&yes| yes).await;
    }
}
