//! Multiple choice (GPQA `A`–`D`, MMLU `A`–`J`): `parse_multiple_choice` and
//! `evaluate_multiple_choice` of the official scorer.

use crate::extract::{final_section, strip_markdown_bold};
use crate::pychars::{
    char_at, char_before, in_range_ci, is_letter_ci, is_word, literal_ci, skip_space, strip, upper,
    word_boundary,
};

/// The parsed answer, upper-cased as Python's `str.upper()` does (`ı` → `I`; `İ` stays).
pub fn parse_multiple_choice(text: &str, last: char) -> Option<String> {
    let text = strip(text);
    if text.is_empty() {
        return None;
    }
    let bold_free = strip_markdown_bold(final_section(text));
    let mut fs: &str = &bold_free;
    let artifact = (fs.starts_with("['") || fs.starts_with("[\""))
        && (fs.ends_with("']") || fs.ends_with("\"]"));
    if artifact {
        // Python's fs[2:-2] is empty when the two ends overlap.
        fs = if fs.len() >= 4 {
            strip(&fs[2..fs.len() - 2])
        } else {
            ""
        };
    }
    let fs = unescape(fs);
    let found = leading_letter(strip(&fs), last)
        .or_else(|| answer_in_final(&fs, last))
        .or_else(|| answer_in_text(&unescape(text), last))
        .or_else(|| {
            (last == 'J')
                .then(|| standalone_letter(&fs, last))
                .flatten()
        });
    found.map(|(_, c)| upper(c))
}

/// The literal two-character sequences `\n` and `\'` replaced, in that order.
fn unescape(s: &str) -> String {
    s.replace("\\n", "\n").replace("\\'", "'")
}

/// [`crate::patterns::CHOICE_LEADING_LETTER`] (`re.match`). `[^a-zA-Z]*` is greedy and
/// cannot end before a letter it could consume, so the option letter must be the
/// first letter of the text, and the character after it a non-letter or the end.
/// Like every matcher here, it returns the captured letter and its byte offset.
pub(crate) fn leading_letter(s: &str, last: char) -> Option<(usize, char)> {
    let mut chars = s.char_indices().skip_while(|&(_, c)| !is_letter_ci(c));
    let (i, c) = chars.next()?;
    let next_ok = chars.next().is_none_or(|(_, n)| !is_letter_ci(n));
    (in_range_ci(c, last) && next_ok).then_some((i, c))
}

/// After an `answer` word that ends at `i`: `\s*[:.]?\s*([A-M])\b`. The letter's place
/// is fixed (spaces, at most one `:`/`.`, spaces); `\b` after a letter needs a non-word.
fn letter_after_answer(s: &str, i: usize, punct: &[char], last: char) -> Option<(usize, char)> {
    let mut i = skip_space(s, i);
    if char_at(s, i).is_some_and(|c| punct.contains(&c)) {
        i = skip_space(s, i + 1);
    }
    let c = char_at(s, i).filter(|&c| in_range_ci(c, last))?;
    Some((i, c))
}

/// Byte offsets of `a`/`A` (and optionally `f`/`F`): every possible start of the
/// case-insensitive words `answer` / `final` (no non-ASCII character folds to them).
fn starts(s: &str, with_f: bool) -> impl Iterator<Item = usize> + '_ {
    let b = s.as_bytes();
    let a = memchr::memchr2_iter(b'a', b'A', b);
    let f = with_f.then(|| memchr::memchr2_iter(b'f', b'F', b));
    let mut all: Vec<usize> = a.chain(f.into_iter().flatten()).collect();
    all.sort_unstable();
    all.into_iter()
}

/// [`crate::patterns::CHOICE_ANSWER_IN_FINAL`], first match.
pub(crate) fn answer_in_final(s: &str, last: char) -> Option<(usize, char)> {
    starts(s, false).find_map(|p| {
        if !word_boundary(s, p) {
            return None;
        }
        let end = literal_ci(s, p, "answer")?;
        let (i, c) = letter_after_answer(s, end, &[':', '.'], last)?;
        (!char_at(s, i + c.len_utf8()).is_some_and(is_word)).then_some((i, c))
    })
}

/// [`crate::patterns::CHOICE_ANSWER_IN_TEXT`], last match. The letter's place is fixed
/// (spaces, `:`/`=`, spaces, `(`, spaces); the tail `\s*\)?(?:\s*$|[^A-Za-z])` then
/// succeeds unless a letter follows the option letter directly (with spaces between,
/// backtracking lets `[^A-Za-z]` take a space). A later match that `finditer` skips
/// because it overlaps an earlier one is the `ANSWER` inside `FINAL ANSWER`, which
/// yields the same letter, so the last matching start gives the last match's letter.
pub(crate) fn answer_in_text(s: &str, last: char) -> Option<(usize, char)> {
    let mut found = None;
    for p in starts(s, true) {
        if char_before(s, p).is_some_and(is_word) {
            continue;
        }
        let end = match literal_ci(s, p, "answer") {
            Some(end) => end,
            None => match literal_ci(s, p, "final") {
                Some(f) => match literal_ci(s, skip_space(s, f), "answer") {
                    Some(end) => end,
                    None => continue,
                },
                None => continue,
            },
        };
        if char_at(s, end).is_some_and(is_word) {
            continue;
        }
        let mut i = skip_space(s, end);
        if char_at(s, i).is_some_and(|c| c == ':' || c == '=') {
            i += 1;
        }
        i = skip_space(s, i);
        if char_at(s, i) == Some('(') {
            i = skip_space(s, i + 1);
        }
        let Some(c) = char_at(s, i).filter(|&c| in_range_ci(c, last)) else {
            continue;
        };
        if !char_at(s, i + c.len_utf8()).is_some_and(is_letter_ci) {
            found = Some((i, c));
        }
    }
    found
}

/// [`crate::patterns::CHOICE_STANDALONE_LETTER`], last match (MMLU only).
pub(crate) fn standalone_letter(s: &str, last: char) -> Option<(usize, char)> {
    s.char_indices().rfind(|&(i, c)| {
        in_range_ci(c, last)
            && !char_before(s, i).is_some_and(is_word)
            && !char_at(s, i + c.len_utf8()).is_some_and(is_word)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities() {
        assert_eq!(parse_multiple_choice("C", 'D').as_deref(), Some("C"));
        assert_eq!(
            parse_multiple_choice("(b) because", 'D').as_deref(),
            Some("B")
        );
        // P1 fails on "The", P2 finds "Answer: c".
        assert_eq!(
            parse_multiple_choice("The Answer: c.", 'D').as_deref(),
            Some("C")
        );
        // "Answers" is not \bANSWER\b; "E" is out of range.
        assert_eq!(parse_multiple_choice("Xy Answers: B", 'D'), None);
        assert_eq!(parse_multiple_choice("Xy answer: E", 'D'), None);
        assert_eq!(
            parse_multiple_choice("Xy answer: E", 'J').as_deref(),
            Some("E")
        );
    }
}

#[cfg(test)]
mod python_re_cases {
    //! Cases checked against CPython's `re` with the official patterns.
    use super::*;

    #[test]
    fn p3_tail_and_case_folding() {
        // `answer (b) x`: P3's `\(?` then the letter, then `)` and a non-letter.
        assert_eq!(
            answer_in_text("answer (b) x", 'D').map(|(_, c)| c),
            Some('b')
        );
        // Kelvin sign is a letter under re.I, so nothing may follow the letter directly.
        assert_eq!(
            answer_in_text("FINAL ANSWER:A\u{212a}", 'D').map(|(_, c)| c),
            None
        );
        assert_eq!(answer_in_text("Answer: Ba", 'D').map(|(_, c)| c), None);
        // With spaces before the next letter, backtracking makes `[^A-Za-z]` take a space.
        assert_eq!(
            answer_in_text("Answer:  C  d", 'D').map(|(_, c)| c),
            Some('C')
        );
        assert_eq!(
            answer_in_final("Answer:  C  d", 'D').map(|(_, c)| c),
            Some('C')
        );
        // `FINAL\s*ANSWER` with no space, and a word character before it blocks `\b`.
        assert_eq!(
            answer_in_text("FINALANSWER=B", 'D').map(|(_, c)| c),
            Some('B')
        );
        assert_eq!(answer_in_text("xANSWER: B", 'D').map(|(_, c)| c), None);
        // P1: the Kelvin sign after the letter is a letter; CJK text before it is not.
        assert_eq!(leading_letter("B\u{212a}", 'D').map(|(_, c)| c), None);
        assert_eq!(leading_letter("答案：B", 'D').map(|(_, c)| c), Some('B'));
        assert_eq!(leading_letter("ıB", 'D').map(|(_, c)| c), None);
    }
}
