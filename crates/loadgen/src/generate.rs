//! Which samples are loaded and which queries are issued when: LoadGen's
//! `GenerateLoadableSets` and `GenerateQueries`, reproduced exactly.
//!
//! Everything is decided before the clock starts, from three seeded
//! mt19937 engines, so a run's sample order and Server schedule can be
//! computed (and checked) without a SUT. The order in which `sample_rng`
//! is consumed is part of the contract: the main, unique and equal-issue
//! distributions are all built even when unused.

use crate::effective::EffectiveSettings;
use crate::rng::{exponential, seconds_to_ns, shuffle, uniform_int, Mt19937};
use crate::settings::Scenario;

/// One set of QSL indices loaded together, in `LoadSamplesToRam` order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadableSet {
    /// QSL indices in load order.
    pub set: Vec<usize>,
    /// Number of samples before MultiStream padding.
    pub sample_distribution_end: usize,
}

/// A query: its samples (QSL indices) and its offset from the start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// Offset of the query from the start of the series.
    pub scheduled_ns: u64,
    /// The QSL indices of its samples.
    pub indices: Vec<usize>,
}

/// The queries of one series, plus what LoadGen logs about them.
#[derive(Clone, Debug, PartialEq)]
pub struct Generated {
    /// The queries, in issue order.
    pub queries: Vec<Query>,
    /// `generated_samples_per_query` (after equal-issue padding).
    pub samples_per_query: u64,
    /// `generated_query_duration`: the timestamp after the last query.
    pub duration_ns: i64,
}

/// Why queries could not be generated (LoadGen would crash or misbehave).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum GenerateError {
    /// Nothing to load.
    #[error("the loaded set is empty (performance_sample_count or accuracy_sample_count is 0, or the QSL has no samples)")]
    EmptySet,
    /// Fewer loaded samples than one query needs.
    #[error("no queries would be generated: {0} loaded samples but {1} samples per query (set performance_sample_count_override to the QSL size; official LoadGen crashes here)")]
    NoQueries(usize, u64),
    /// A zero or negative target rate.
    #[error("target_qps must be positive, got {0}")]
    BadQps(f64),
    /// The `performance_issue_same` index is not in the loaded set.
    #[error("performance_issue_same_index {0} is outside the loaded set of {1} samples")]
    SameIndex(u64, usize),
}

/// `GenerateLoadableSets(count)`: a shuffle of `[0, min(count, total))`
/// cut into chunks of `performance_sample_count`.
pub fn loadable_sets(s: &EffectiveSettings, count: u64, qsl_total: u64) -> Vec<LoadableSet> {
    let n = count.min(qsl_total) as usize;
    let mut samples: Vec<usize> = (0..n).collect();
    shuffle(&mut samples, &mut Mt19937::new(s.requested.qsl_rng_seed));
    let set_size = s.performance_sample_count as usize;
    let padding = if s.scenario == Scenario::MultiStream {
        s.samples_per_query.saturating_sub(1) as usize
    } else {
        0
    };
    let mut out: Vec<LoadableSet> = if set_size == 0 {
        vec![LoadableSet {
            sample_distribution_end: n,
            set: samples,
        }]
    } else {
        samples
            .chunks(set_size)
            .map(|c| LoadableSet {
                set: c.to_vec(),
                sample_distribution_end: c.len(),
            })
            .collect()
    };
    out.retain(|l| !l.set.is_empty());
    for l in &mut out {
        for i in 0..padding {
            let p = l.set[i % l.set.len()];
            l.set.push(p);
        }
    }
    out
}

/// A list built like LoadGen's accuracy-mode distribution: `[0, stride,
/// ..) < end`, shuffled once, then walked in order.
struct Walk {
    list: Vec<usize>,
    pos: usize,
}

impl Walk {
    fn new(end: usize, stride: usize, rng: &mut Mt19937) -> Self {
        let mut list: Vec<usize> = (0..end).step_by(stride.max(1)).collect();
        shuffle(&mut list, rng);
        Walk { list, pos: 0 }
    }
    fn next(&mut self) -> usize {
        // LoadGen's `.at()` would throw past the end; wrap instead.
        let v = self.list.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        v
    }
}

/// `GenerateQueries` for one loaded set. `accuracy` selects AccuracyOnly
/// behaviour (every sample once); otherwise PerformanceOnly.
pub fn generate_queries(
    s: &EffectiveSettings,
    loaded: &LoadableSet,
    accuracy: bool,
) -> Result<Generated, GenerateError> {
    let l = &loaded.set;
    if l.is_empty() || loaded.sample_distribution_end == 0 {
        return Err(GenerateError::EmptySet);
    }
    let scenario = s.scenario;
    let multistream = scenario == Scenario::MultiStream;
    let mult: u64 = if scenario == Scenario::Server { 1 } else { 2 };
    let mut gen_duration_ns = (mult * s.target_duration_ms).saturating_mul(1_000_000) as i64;
    let mut min_queries = s.min_query_count;
    let mut spq = s.samples_per_query;
    if accuracy && scenario == Scenario::Offline {
        spq = loaded.sample_distribution_end as u64;
    }
    if accuracy || s.requested.performance_issue_unique {
        gen_duration_ns = 0;
        min_queries = (l.len() as u64).checked_div(spq).unwrap_or(0);
    }
    if min_queries == 0 && (accuracy || s.requested.performance_issue_unique) {
        return Err(GenerateError::NoQueries(l.len(), spq));
    }
    if spq == 0 {
        return Err(GenerateError::NoQueries(l.len(), spq));
    }
    let mut sample_rng = Mt19937::new(s.requested.sample_index_rng_seed);
    let mut schedule_rng = Mt19937::new(s.requested.schedule_rng_seed);
    let end = loaded.sample_distribution_end;
    let stride = if multistream { spq as usize } else { 1 };

    // Main distribution: a shuffled walk in accuracy mode, uniform draws in
    // performance mode (nothing consumed yet).
    let mut main_walk = accuracy.then(|| Walk::new(end, stride, &mut sample_rng));
    let mut unique = Walk::new(end, stride, &mut sample_rng);
    // Equal issue: one index vector, reshuffled in place for each block.
    let mut equal_issue: Vec<usize> = Vec::new();
    {
        let mut v: Vec<usize> = (0..l.len()).collect();
        let mut j = 0u64;
        while j < min_queries {
            shuffle(&mut v, &mut sample_rng);
            equal_issue.extend_from_slice(&v);
            j += l.len() as u64;
        }
    }
    let mut ei_pos = 0usize;

    let qps = s.target_qps;
    if qps.is_nan() || qps <= 0.0 {
        return Err(GenerateError::BadQps(qps));
    }
    let period_ns = seconds_to_ns(1.0 / qps);

    let equal = s.sample_concatenate_permutation;
    let n = l.len() as u64;
    if !accuracy && equal {
        if scenario == Scenario::Offline && spq % n != 0 {
            spq += n - spq % n;
        } else if scenario != Scenario::Offline && min_queries % n != 0 {
            min_queries += n - min_queries % n;
        }
    }
    let same = s.requested.performance_issue_same_index as usize;
    if s.requested.performance_issue_same && same >= l.len() {
        return Err(GenerateError::SameIndex(same as u64, l.len()));
    }
    let mut main_draw = |rng: &mut Mt19937| -> usize {
        match main_walk.as_mut() {
            Some(w) => w.next(),
            None => uniform_int(rng, 0, end as u64 - 1) as usize,
        }
    };

    let mut queries: Vec<Query> = Vec::new();
    let mut ts: i64 = 0;
    let mut prev: i64 = 0;
    while prev < gen_duration_ns || (queries.len() as u64) < min_queries {
        let indices: Vec<usize> = if multistream {
            let mut start = if s.requested.performance_issue_unique {
                unique.next()
            } else if s.requested.performance_issue_same {
                same
            } else {
                main_draw(&mut sample_rng)
            };
            (0..spq)
                .map(|_| {
                    let v = l[start % l.len()];
                    start += 1;
                    v
                })
                .collect()
        } else if scenario == Scenario::Offline {
            if s.requested.performance_issue_same {
                vec![l[same]; spq as usize]
            } else {
                let repeats = (spq / n) as usize;
                let remainder = (spq % n) as usize;
                let mut v = Vec::with_capacity(spq as usize);
                for _ in 0..repeats {
                    let from = v.len();
                    v.extend_from_slice(l);
                    if equal {
                        shuffle(&mut v[from..], &mut sample_rng);
                    }
                }
                v.extend_from_slice(&l[..remainder]);
                v
            }
        } else {
            (0..spq)
                .map(|_| {
                    let k = if s.requested.performance_issue_unique {
                        unique.next()
                    } else if s.requested.performance_issue_same {
                        same
                    } else if equal {
                        let k = equal_issue.get(ei_pos % equal_issue.len().max(1));
                        ei_pos += 1;
                        k.copied().unwrap_or(0)
                    } else {
                        main_draw(&mut sample_rng)
                    };
                    l[k % l.len()]
                })
                .collect()
        };
        queries.push(Query {
            scheduled_ns: ts as u64,
            indices,
        });
        prev = ts;
        let gap = if scenario == Scenario::Server {
            seconds_to_ns(exponential(&mut schedule_rng, qps))
        } else {
            period_ns
        };
        ts = ts.saturating_add(gap);
        if equal
            && queries.len() as u64 >= min_queries
            && prev < gen_duration_ns
            && scenario != Scenario::Offline
        {
            min_queries += n;
        }
    }
    if scenario == Scenario::Offline && accuracy {
        let remaining = l.len() % spq as usize;
        if remaining != 0 {
            let indices = (0..remaining)
                .map(|_| l[main_draw(&mut sample_rng) % l.len()])
                .collect();
            queries.push(Query {
                scheduled_ns: ts as u64,
                indices,
            });
        }
    }
    Ok(Generated {
        queries,
        samples_per_query: spq,
        duration_ns: ts,
    })
}

/// The per-sample values LoadGen draws (from a default-seeded mt19937 that
/// runs across the whole test) to decide accuracy-log sampling.
pub struct AccuracyLogRng(Mt19937);

impl Default for AccuracyLogRng {
    fn default() -> Self {
        AccuracyLogRng(Mt19937::default_seeded())
    }
}

impl AccuracyLogRng {
    /// The next sample's `accuracy_log_val`.
    pub fn next_value(&mut self) -> f64 {
        crate::rng::generate_canonical(&mut self.0)
    }
}

/// The per-series offset drawn from `mt19937(accuracy_log_rng_seed)`.
pub fn accuracy_log_offset(seed: u64) -> f64 {
    crate::rng::generate_canonical(&mut Mt19937::new(seed))
}
