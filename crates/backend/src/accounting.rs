//! Token accounting for SGLang's streamed `output_ids`, which are cumulative
//! (every id so far, the default) or incremental (only the new ids, with
//! `--incremental-streaming-output`) depending on the server's flags and
//! version, while `meta_info.completion_tokens` is always the running total.
//!
//! [`StreamedIds`] works out which it is from the chunks themselves, and
//! then holds the server to it: a cumulative stream that disagrees with what
//! it sent before is an error, never silently re-counted. Unlike the
//! reference client it never invents placeholder ids when a chunk carries
//! fewer ids than the count says (its `range(prev, completion_tokens)`): the
//! ids are the server's or there are none.

/// How a stream's `output_ids` relate to each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdsMode {
    /// Decide from the chunks (with `completion_tokens` when present).
    #[default]
    Auto,
    /// Each chunk repeats every id generated so far.
    Cumulative,
    /// Each chunk holds only the ids generated since the previous one.
    Incremental,
}

/// The ids of one stream so far, and how its chunks are read.
#[derive(Debug, Clone, Default)]
pub struct StreamedIds {
    mode: IdsMode,
    ids: Vec<u32>,
}

impl StreamedIds {
    /// Starts a stream; `mode` is [`IdsMode::Auto`] unless the server's
    /// setting is known.
    pub fn new(mode: IdsMode) -> Self {
        StreamedIds {
            mode,
            ids: Vec::new(),
        }
    }

    /// Every id received so far.
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// Every id received, once the stream has ended.
    pub fn into_ids(self) -> Vec<u32> {
        self.ids
    }

    /// How the stream is being read (still `Auto` while undecided).
    #[cfg(test)]
    pub fn mode(&self) -> IdsMode {
        self.mode
    }

    /// Takes one chunk's `output_ids` and its `completion_tokens` (the
    /// server's running total, if sent); returns the ids that are new.
    ///
    /// An empty chunk adds nothing in either mode. While undecided, the
    /// first chunk is the same in both modes; after that the count decides
    /// (cumulative: `len == total`; incremental: `have + len == total`),
    /// and only where it cannot (no count, or a count that fits neither, as
    /// when a server counts a stop id it leaves out) does the content:
    /// a chunk that extends what we have is cumulative.
    pub fn push(&mut self, chunk: &[u32], total: Option<usize>) -> Result<&[u32], String> {
        let have = self.ids.len();
        if chunk.is_empty() {
            return Ok(&[]);
        }
        let prefix_kept = chunk.len() >= have && chunk[..have] == self.ids[..];
        let cumulative_fits = total == Some(chunk.len()) && prefix_kept;
        let incremental_fits = total == Some(have + chunk.len());
        if have > 0 {
            match (self.mode, cumulative_fits, incremental_fits) {
                (IdsMode::Auto, true, false) => self.mode = IdsMode::Cumulative,
                (IdsMode::Auto, false, true) => self.mode = IdsMode::Incremental,
                (IdsMode::Auto, _, _) if prefix_kept && chunk.len() > have => {
                    self.mode = IdsMode::Cumulative
                }
                (IdsMode::Auto, _, _) => self.mode = IdsMode::Incremental,
                (IdsMode::Cumulative, false, true) | (IdsMode::Incremental, true, false) => {
                    return Err(format!(
                        "output_ids were {:?} so far, but a chunk of {} ids with \
                         completion_tokens = {} fits only the other reading",
                        self.mode,
                        chunk.len(),
                        total.unwrap_or_default()
                    ));
                }
                _ => {}
            }
        }
        match self.mode {
            IdsMode::Cumulative if have > 0 => {
                if chunk.len() < have {
                    return Err(format!(
                        "cumulative output_ids shrank from {have} to {} ids",
                        chunk.len()
                    ));
                }
                if let Some(pos) = chunk[..have]
                    .iter()
                    .zip(&self.ids)
                    .position(|(a, b)| a != b)
                {
                    return Err(format!(
                        "cumulative output_ids changed id {pos} from {} to {} (garbled stream?)",
                        self.ids[pos], chunk[pos]
                    ));
                }
                self.ids.extend_from_slice(&chunk[have..]);
            }
            _ => self.ids.extend_from_slice(chunk),
        }
        Ok(&self.ids[have..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `chunks` (each with the running total) and returns the new ids per chunk.
    fn run(mode: IdsMode, chunks: &[(&[u32], Option<usize>)]) -> (Vec<Vec<u32>>, StreamedIds) {
        let mut s = StreamedIds::new(mode);
        let news = chunks
            .iter()
            .map(|(c, t)| s.push(c, *t).unwrap().to_vec())
            .collect();
        (news, s)
    }

    #[test]
    fn cumulative_and_incremental_give_the_same_ids() {
        let cum: [(&[u32], Option<usize>); 3] = [
            (&[5], Some(1)),
            (&[5, 6, 7], Some(3)),
            (&[5, 6, 7, 8], Some(4)),
        ];
        let inc: [(&[u32], Option<usize>); 3] =
            [(&[5], Some(1)), (&[6, 7], Some(3)), (&[8], Some(4))];
        for chunks in [&cum[..], &inc[..]] {
            let (news, s) = run(IdsMode::Auto, chunks);
            assert_eq!(news, vec![vec![5], vec![6, 7], vec![8]]);
            assert_eq!(s.ids(), &[5, 6, 7, 8]);
        }
        assert_eq!(run(IdsMode::Auto, &cum).1.mode(), IdsMode::Cumulative);
        assert_eq!(run(IdsMode::Auto, &inc).1.mode(), IdsMode::Incremental);
    }

    #[test]
    fn repeated_ids_do_not_fool_the_count() {
        // Incremental [7], [7, 7]: the content looks cumulative, the count says not.
        let (news, s) = run(IdsMode::Auto, &[(&[7], Some(1)), (&[7, 7], Some(3))]);
        assert_eq!(news, vec![vec![7], vec![7, 7]]);
        assert_eq!(s.mode(), IdsMode::Incremental);
        // Cumulative [7], [7, 7]: count 2 fits cumulative only.
        let (news, s) = run(IdsMode::Auto, &[(&[7], Some(1)), (&[7, 7], Some(2))]);
        assert_eq!(news, vec![vec![7], vec![7]]);
        assert_eq!(s.mode(), IdsMode::Cumulative);
    }

    #[test]
    fn without_a_count_the_content_decides() {
        let (news, _) = run(IdsMode::Auto, &[(&[1, 2], None), (&[1, 2, 3], None)]);
        assert_eq!(news, vec![vec![1, 2], vec![3]]);
        let (news, _) = run(IdsMode::Auto, &[(&[1, 2], None), (&[3], None)]);
        assert_eq!(news, vec![vec![1, 2], vec![3]]);
    }

    #[test]
    fn empty_chunks_add_nothing() {
        let (news, s) = run(
            IdsMode::Auto,
            &[
                (&[], Some(0)),
                (&[1], Some(1)),
                (&[], Some(1)),
                (&[1, 2], Some(2)),
            ],
        );
        assert_eq!(news, vec![vec![], vec![1], vec![], vec![2]]);
        assert_eq!(s.ids(), &[1, 2]);
    }

    #[test]
    fn a_cumulative_stream_that_changes_its_past_is_an_error() {
        let mut s = StreamedIds::new(IdsMode::Cumulative);
        s.push(&[1, 2, 3], Some(3)).unwrap();
        assert!(s
            .push(&[1, 9, 3, 4], Some(4))
            .unwrap_err()
            .contains("changed id 1"));
        assert!(s.push(&[1, 2], Some(4)).unwrap_err().contains("shrank"));
    }

    #[test]
    fn a_cumulative_chunk_with_nothing_new_adds_nothing() {
        let (news, s) = run(
            IdsMode::Auto,
            &[(&[7], Some(1)), (&[7], Some(1)), (&[7, 8], Some(2))],
        );
        assert_eq!(news, vec![vec![7], vec![], vec![8]]);
        assert_eq!(s.mode(), IdsMode::Cumulative);
    }

    #[test]
    fn a_stream_that_switches_reading_is_an_error() {
        let mut s = StreamedIds::new(IdsMode::Auto);
        s.push(&[1], Some(1)).unwrap();
        s.push(&[1, 2], Some(2)).unwrap();
        assert_eq!(s.mode(), IdsMode::Cumulative);
        assert!(s
            .push(&[3, 4], Some(4))
            .unwrap_err()
            .contains("other reading"));
    }

    #[test]
    fn a_stop_id_left_out_of_the_ids_is_not_invented() {
        // The count includes a stop id the ids do not carry (some SGLang versions).
        let (news, s) = run(IdsMode::Auto, &[(&[1, 2], Some(2)), (&[1, 2, 3], Some(4))]);
        assert_eq!(news, vec![vec![1, 2], vec![3]]);
        assert_eq!(s.ids(), &[1, 2, 3]);
    }
}
