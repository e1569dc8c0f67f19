//! The shared constants and the decoder, against the official encoding as the
//! independent source: openai-harmony's o200k_harmony special tokens by name.

use harmony::{tokens, TextDecoder, UnknownIds, VOCAB_SIZE};

/// Every id of `defs::tokens` is the official encoding's special token of that name.
#[test]
fn named_token_ids_are_the_official_special_tokens() {
    let named = [
        ("<|endoftext|>", tokens::END_OF_TEXT),
        ("<|return|>", tokens::RETURN),
        ("<|constrain|>", tokens::CONSTRAIN),
        ("<|channel|>", tokens::CHANNEL),
        ("<|start|>", tokens::START),
        ("<|end|>", tokens::END),
        ("<|message|>", tokens::MESSAGE),
        ("<|call|>", tokens::CALL),
    ];
    let tokenizer = harmony::encoding().unwrap().tokenizer();
    for (name, id) in named {
        assert_eq!(tokenizer.encode_with_special_tokens(name), [id], "{name}");
        let text = tokenizer.decode_bytes([id]).unwrap();
        assert_eq!(text, name.as_bytes(), "{name}");
    }
}

/// `VOCAB_SIZE` (the model's embedding rows) ends on a token of the official encoding.
#[test]
fn vocab_size_ends_on_an_official_token() {
    let tokenizer = harmony::encoding().unwrap().tokenizer();
    let last = format!("<|reserved_{}|>", VOCAB_SIZE - 1);
    assert_eq!(
        tokenizer.encode_with_special_tokens(&last),
        [VOCAB_SIZE - 1]
    );
    assert_eq!(harmony::QUERY_COLUMNS, ["question", "prompt", "query"]);
}

/// The decoder's table (built from tiktoken-rs) gives the official bytes for every id.
#[test]
fn decoder_table_equals_the_official_tokenizer_for_every_id() {
    let tokenizer = harmony::encoding().unwrap().tokenizer();
    // One id at a time, between two ASCII ids so no byte sequence can merge with another.
    let a = tokenizer.encode_ordinary("a")[0];
    for id in 0..VOCAB_SIZE {
        let official = tokenizer.decode_bytes([a, id, a]).unwrap();
        let ours = harmony::decode(&[a, id, a]).unwrap();
        if let Ok(text) = std::str::from_utf8(&official) {
            assert_eq!(ours, text, "id {id}");
        } else {
            assert_eq!(ours, String::from_utf8_lossy(&official), "id {id}");
        }
    }
}

#[test]
fn unknown_ids_fail_with_their_position_or_are_skipped() {
    let ids = [tokens::START, VOCAB_SIZE + 5, tokens::END];
    let err = harmony::decode(&ids).unwrap_err();
    assert_eq!(
        err,
        harmony::HarmonyError::UnknownId {
            id: VOCAB_SIZE + 5,
            position: 1
        }
    );
    assert!(err.to_string().contains("position 1"), "{err}");
    assert_eq!(
        harmony::decode_with(&ids, UnknownIds::Skip).unwrap(),
        "<|start|><|end|>"
    );
    let mut stream = TextDecoder::new(UnknownIds::Error);
    stream.push(&[tokens::START, tokens::END]).unwrap();
    let err = stream.push(&[tokens::START, u32::MAX]).unwrap_err();
    assert_eq!(
        err,
        harmony::HarmonyError::UnknownId {
            id: u32::MAX,
            position: 3
        }
    );
}

/// Pieces of any size give the whole list's text, with no character ever split.
#[test]
fn streamed_pieces_give_the_whole_text() {
    let tokenizer = harmony::encoding().unwrap().tokenizer();
    let text = "héllo wörld ✓ 東京 👩\u{200d}💻 <|end|>";
    let mut ids = tokenizer.encode_with_special_tokens(text);
    ids.insert(3, VOCAB_SIZE + 1);
    let whole = harmony::decode_with(&ids, UnknownIds::Skip).unwrap();
    assert_eq!(whole, text);
    for piece in [1, 2, 3, 7] {
        let mut decoder = TextDecoder::new(UnknownIds::Skip);
        let mut got = String::new();
        for chunk in ids.chunks(piece) {
            let part = decoder.push(chunk).unwrap();
            assert!(!part.contains('\u{fffd}'), "piece {piece}: {part:?}");
            got.push_str(&part);
        }
        got.push_str(&decoder.finish());
        assert_eq!(got, whole, "piece {piece}");
    }
}
