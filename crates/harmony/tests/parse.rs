//! Completions that real models produce: cut short, or with stray tokens.

use harmony::tokens;

fn enc(text: &str) -> Vec<u32> {
    harmony::encoding()
        .unwrap()
        .tokenizer()
        .encode_ordinary(text)
}

/// `<|channel|>analysis<|message|>think<|end|><|start|>assistant<|channel|>final<|message|>answer<|return|>`
fn full_completion(answer: &str) -> Vec<u32> {
    let mut ids = vec![tokens::CHANNEL];
    ids.extend(enc("analysis"));
    ids.push(tokens::MESSAGE);
    ids.extend(enc("Let me think about 2+2."));
    ids.extend([tokens::END, tokens::START]);
    ids.extend(enc("assistant"));
    ids.push(tokens::CHANNEL);
    ids.extend(enc("final"));
    ids.push(tokens::MESSAGE);
    ids.extend(enc(answer));
    ids.push(tokens::RETURN);
    ids
}

#[test]
fn complete_completion_gives_analysis_then_final() {
    let parsed = harmony::parse_completion(&full_completion("The answer is 4.")).unwrap();
    assert_eq!(parsed.error, None);
    let channels: Vec<_> = parsed
        .messages
        .iter()
        .map(|m| m.channel.as_deref())
        .collect();
    assert_eq!(channels, [Some("analysis"), Some("final")]);
    assert_eq!(parsed.final_text(), Some("The answer is 4."));
    assert!(parsed.messages.iter().all(|m| m.complete));
}

#[test]
fn completion_cut_inside_the_final_message_keeps_its_text() {
    let mut ids = full_completion("The answer is 4.");
    ids.pop(); // no <|return|>: max tokens reached
    ids.truncate(ids.len() - 2);
    let parsed = harmony::parse_completion(&ids).unwrap();
    let last = parsed.messages.last().unwrap();
    assert_eq!(last.channel.as_deref(), Some("final"));
    assert!(!last.complete);
    assert!(
        "The answer is 4.".starts_with(&last.text) && !last.text.is_empty(),
        "{:?}",
        last.text
    );
    assert!(parsed.messages[0].complete);
}

#[test]
fn completion_cut_inside_analysis_has_no_final() {
    let ids = full_completion("4");
    let parsed = harmony::parse_completion(&ids[..6]).unwrap();
    assert_eq!(parsed.final_text(), None);
    assert_eq!(parsed.messages.len(), 1);
    assert_eq!(parsed.messages[0].channel.as_deref(), Some("analysis"));
    assert!(!parsed.messages[0].complete);
}

#[test]
fn every_prefix_of_a_completion_parses_without_panic() {
    let ids = full_completion("Answer: B");
    for end in 0..=ids.len() {
        harmony::parse_completion(&ids[..end]).unwrap();
    }
}

#[test]
fn garbage_after_the_final_message_is_reported_not_fatal() {
    let mut ids = full_completion("42");
    ids.extend(enc("trailing junk without a header"));
    let parsed = harmony::parse_completion(&ids).unwrap();
    assert_eq!(parsed.final_text(), Some("42"));
}

#[test]
fn empty_completion_has_no_messages() {
    let parsed = harmony::parse_completion(&[]).unwrap();
    assert!(parsed.messages.is_empty());
    assert_eq!(parsed.error, None);
}

#[test]
fn decode_keeps_special_tokens_and_rejects_ids_outside_the_vocabulary() {
    let text = harmony::decode(&full_completion("4")).unwrap();
    assert!(text.starts_with("<|channel|>analysis<|message|>"), "{text}");
    assert!(
        text.ends_with("<|channel|>final<|message|>4<|return|>"),
        "{text}"
    );
    assert!(harmony::decode(&[harmony::VOCAB_SIZE + 5]).is_err());
}
