//! Damaged pickles (bytes flipped, cut, repeated) never panic, hang or run away with memory:
//! every one either reads to a well-formed table or fails with an error naming the file.

mod common;

use common::*;

/// A small deterministic generator (no extra dependency, same cases on every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn mutated_pickles_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mutant.pkl");
    let mut rng = Lcg(42);
    for name in [
        "dsr1_sample_pandas2.pkl",
        "dsr1_sample_pandas3.pkl",
        "dsr1_sample_pandas3_objcols.pkl",
    ] {
        let orig = std::fs::read(harmony(name)).unwrap();
        let mut rejected = 0;
        for round in 0..300 {
            let mut b = orig.clone();
            match round % 3 {
                0 => {
                    // flip a few bytes anywhere
                    for _ in 0..1 + rng.next() % 4 {
                        let i = (rng.next() as usize) % b.len();
                        b[i] = rng.next() as u8;
                    }
                }
                1 => {
                    // overwrite a byte with a "large" length-ish value near an opcode
                    let i = (rng.next() as usize) % b.len();
                    for x in b.iter_mut().skip(i).take(4) {
                        *x = 0xff;
                    }
                }
                _ => {
                    // duplicate a slice (stack/mark confusion)
                    let i = (rng.next() as usize) % b.len();
                    let n = (rng.next() as usize % 64).min(b.len() - i);
                    let chunk = b[i..i + n].to_vec();
                    b.splice(i..i, chunk);
                }
            }
            std::fs::write(&path, &b).unwrap();
            match dataset::read_table(&path) {
                Err(e) => {
                    let msg = e.to_string();
                    assert!(msg.contains("mutant.pkl"), "{msg}");
                    rejected += 1;
                }
                // A mutant that still reads (a flipped byte inside a string, say) must
                // still be a frame: equally long columns.
                Ok(t) => assert!(
                    t.columns.iter().all(|c| c.values.len() == t.num_rows()),
                    "{name}, round {round}: ragged table"
                ),
            }
        }
        // Most damage is noticed (about 260 of 300 here): a reader that ignored its
        // input would reject none.
        assert!(
            rejected > 150,
            "{name}: only {rejected} of 300 mutants rejected"
        );
    }
}
