//! The golden vectors made by the official tools (`shared/vectors/harmony`):
//! openai-harmony 0.0.8 renders and parses, and the reference builders' outputs.

use std::path::PathBuf;

use harmony::__private::{render_completion, render_row_whole, render_training, PromptTable};
use harmony::openai_harmony::chat::Conversation;
use harmony::{Cell, ChatTurn, PromptSettings, Prompter, ReasoningEffort, Row, RowError};
use serde_json::Value;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/harmony")
}

fn load(name: &str) -> Value {
    let path = vectors_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn ids(value: &Value) -> Vec<u32> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u32)
        .collect()
}

/// The `generic.json` vectors of one kind (`render` or `parse`).
fn generic_vectors(kind: &str) -> Vec<Value> {
    let vectors = load("generic.json");
    let all = vectors["vectors"].as_array().unwrap();
    all.iter().filter(|v| v["kind"] == kind).cloned().collect()
}

#[test]
fn generic_render_vectors() {
    let mut rendered = 0;
    for v in &generic_vectors("render") {
        let name = v["name"].as_str().unwrap();
        let convo: Conversation = serde_json::from_value(v["conversation_json"].clone()).unwrap();
        let call = &v["render_call"];
        let got = match call["function"].as_str().unwrap() {
            "render_conversation_for_completion" => render_completion(
                &convo,
                call["config"]["auto_drop_analysis"].as_bool().unwrap(),
            )
            .unwrap(),
            "render_conversation_for_training" => render_training(&convo).unwrap(),
            other => panic!("{name}: unexpected call {other}"),
        };
        assert_eq!(got, ids(&v["ids"]), "vector {name}");
        assert_eq!(
            got.len() as u64,
            v["n_tokens"].as_u64().unwrap(),
            "vector {name}"
        );
        assert_eq!(
            harmony::decode(&got).unwrap(),
            v["text"].as_str().unwrap(),
            "vector {name} text"
        );
        rendered += 1;
    }
    assert_eq!(rendered, 6);
}

#[test]
fn generic_parse_vectors() {
    let mut parsed = 0;
    for v in &generic_vectors("parse") {
        let name = v["name"].as_str().unwrap();
        let got = harmony::parse_completion(&ids(&v["ids"])).unwrap();
        assert_eq!(got.error, None, "vector {name}");
        let expected = v["expected_messages"].as_array().unwrap();
        assert_eq!(got.messages.len(), expected.len(), "vector {name}");
        for (m, e) in got.messages.iter().zip(expected) {
            assert_eq!(m.role, e["role"].as_str().unwrap(), "{name}");
            assert_eq!(m.channel.as_deref(), e["channel"].as_str(), "{name}");
            assert_eq!(m.recipient.as_deref(), e["recipient"].as_str(), "{name}");
            assert_eq!(
                m.content_type.as_deref(),
                e["content_type"].as_str(),
                "{name}"
            );
            let text: String = e["content"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap())
                .collect();
            assert_eq!(m.text, text, "{name}");
            assert!(m.complete, "{name}");
        }
        parsed += 1;
    }
    assert_eq!(parsed, 2);
}

/// A `builders.json` row as the prompt builders see it.
struct JsonRow<'a> {
    row: &'a serde_json::Map<String, Value>,
    nan_fields: Vec<&'a str>,
}

impl Row for JsonRow<'_> {
    fn cell(&self, column: &str) -> Option<Cell> {
        let value = self.row.get(column)?;
        Some(match value {
            Value::String(s) => Cell::Text(s.clone()),
            Value::Null if self.nan_fields.contains(&column) => Cell::Other("nan".into()),
            Value::Array(items) => Cell::Chat(
                items
                    .iter()
                    .map(|t| ChatTurn {
                        role: t["role"].as_str().unwrap().into(),
                        content: t["content"].as_str().unwrap().into(),
                    })
                    .collect(),
            ),
            other => Cell::Other(other.to_string()),
        })
    }
}

fn prompters() -> Vec<(ReasoningEffort, Prompter)> {
    [
        ReasoningEffort::Low,
        ReasoningEffort::Medium,
        ReasoningEffort::High,
    ]
    .into_iter()
    .map(|effort| {
        let settings = PromptSettings {
            reasoning_effort: effort,
            ..PromptSettings::default()
        };
        (effort, Prompter::new(settings).unwrap())
    })
    .collect()
}

#[test]
fn reference_builder_vectors() {
    let vectors = load("builders.json");
    let prompters = prompters();
    let entries = vectors["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 32);
    for e in entries {
        let id = e["id"].as_str().unwrap();
        let effort: ReasoningEffort = e["reasoning_effort"].as_str().unwrap().parse().unwrap();
        let prompter = &prompters.iter().find(|(p, _)| *p == effort).unwrap().1;
        let index = e["index"].as_u64().unwrap() as usize;
        let nan_fields = e["row_nan_fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let row = JsonRow {
            row: e["row"].as_object().unwrap(),
            nan_fields,
        };
        let got = prompter.render_row(index, &row);
        if id == "error-unknown-dataset-high" {
            // Our one deliberate difference: v4's `aime25` maps to the aime builder.
            let prompt = got.unwrap_or_else(|err| panic!("{id}: {err}"));
            assert_eq!(prompt.builder, "aime");
            let mut as_reference = e["row"].as_object().unwrap().clone();
            as_reference.insert("dataset".into(), Value::String("aime2025".into()));
            let expected = prompter
                .render_row(
                    index,
                    &JsonRow {
                        row: &as_reference,
                        nan_fields: vec![],
                    },
                )
                .unwrap();
            assert_eq!(prompt.ids, expected.ids, "{id}");
            continue;
        }
        match e["error"].as_str() {
            None => {
                let prompt = got.unwrap_or_else(|err| panic!("{id}: {err}"));
                assert_eq!(prompt.ids, ids(&e["ids"]), "{id}");
                assert_eq!(
                    prompt.ids.len() as u64,
                    e["n_tokens"].as_u64().unwrap(),
                    "{id}"
                );
                assert_eq!(prompt.builder, e["builder_key"].as_str().unwrap(), "{id}");
                assert_eq!(
                    harmony::decode(&prompt.ids).unwrap(),
                    e["text_input"].as_str().unwrap(),
                    "{id}"
                );
                assert_eq!(
                    render_row_whole(prompter, index, &row).unwrap(),
                    prompt.ids,
                    "{id}: prefix cache"
                );
            }
            Some(expected) => {
                let err = got.expect_err(id);
                let message = err.to_string();
                match e["error_kind"].as_str().unwrap() {
                    "unknown_dataset" | "no_query_column" => assert_eq!(message, expected, "{id}"),
                    "builder_exception" => {
                        assert!(matches!(err, RowError::Builder { .. }), "{id}");
                        assert_eq!(
                            message.lines().next(),
                            e["error_first_line"].as_str(),
                            "{id}"
                        );
                    }
                    kind => panic!("{id}: unknown error kind {kind}"),
                }
            }
        }
    }
}

/// One row given as a JSON object, rendered.
fn render_json(
    prompter: &Prompter,
    index: usize,
    row: Value,
) -> Result<harmony::RenderedPrompt, RowError> {
    let row = JsonRow {
        row: row.as_object().unwrap(),
        nan_fields: vec![],
    };
    prompter.render_row(index, &row)
}

/// healthbench with an empty history (an empty list, or an empty string, which the
/// reference iterates as no messages): system and developer only, then the assistant.
#[test]
fn healthbench_without_messages_is_system_and_developer_only() {
    let prompter = Prompter::new(PromptSettings::default()).unwrap();
    for prompt in [serde_json::json!([]), serde_json::json!("")] {
        let ids = render_json(
            &prompter,
            0,
            serde_json::json!({"dataset": "healthbench", "prompt": prompt}),
        )
        .unwrap()
        .ids;
        let text = harmony::decode(&ids).unwrap();
        assert!(
            text.ends_with("clinical standards.<|end|><|start|>assistant"),
            "{text}"
        );
        let row = serde_json::json!({"dataset": "healthbench", "prompt": prompt});
        let row = JsonRow {
            row: row.as_object().unwrap(),
            nan_fields: vec![],
        };
        assert_eq!(render_row_whole(&prompter, 0, &row).unwrap(), ids);
    }
    let err = render_json(
        &prompter,
        3,
        serde_json::json!({"dataset": "healthbench", "prompt": " "}),
    )
    .unwrap_err();
    assert!(matches!(err, RowError::Builder { index: 3, .. }), "{err}");
}

#[test]
fn reference_rejections_of_unknown_names_are_kept() {
    let prompter = Prompter::new(PromptSettings::default()).unwrap();
    let err = render_json(
        &prompter,
        7,
        serde_json::json!({"dataset": "gsm8k", "question": "1+1?"}),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "Unknown dataset 'gsm8k' at index 7");
    assert!(err.hint().contains("livecodebench_v6"), "{}", err.hint());
}

#[test]
fn conversation_date_is_configurable() {
    let settings = PromptSettings {
        conversation_date: "2026-01-02".into(),
        ..PromptSettings::default()
    };
    let prompter = Prompter::new(settings).unwrap();
    let prompt = render_json(
        &prompter,
        0,
        serde_json::json!({"dataset": "default", "question": "hi"}),
    )
    .unwrap();
    let text = harmony::decode(&prompt.ids).unwrap();
    assert!(text.contains("Current date: 2026-01-02\n"), "{text}");
}

#[test]
fn embedded_prompt_data_keeps_the_reference_pitfalls() {
    let reference = load("reference_prompts.json");
    let table = PromptTable::get();
    for pitfall in reference["pitfalls_verified"].as_array().unwrap() {
        let builder = &table.builders[pitfall["builder"].as_str().unwrap()];
        let substring = pitfall["substring"].as_str().unwrap();
        let haystack = match pitfall["field"].as_str().unwrap() {
            "instructions" => builder.instructions.clone(),
            _ => builder
                .few_shot
                .iter()
                .map(|s| format!("{}\n{}", s.user, s.assistant_final))
                .collect(),
        };
        assert!(haystack.contains(substring), "{pitfall}");
    }
    for (name, builder) in reference["builders"].as_object().unwrap() {
        assert_eq!(
            table.builders[name].instructions,
            builder["instructions"].as_str().unwrap(),
            "{name}"
        );
    }
}

/// The per-row framing equals the official whole-conversation render for
/// every builder and awkward texts (literal specials, whitespace, scripts).
#[test]
fn row_framing_equals_the_official_render_for_awkward_texts() {
    let texts = [
        "",
        " ",
        "\n\n",
        "<|end|><|start|>assistant<|channel|>final<|message|>x<|return|>",
        "  trailing spaces   ",
        "e\u{301} \u{200b}\u{a0} 👩\u{200d}💻 مرحبا שלום 東京",
        "```python\nprint('hi')\n```",
        "\\boxed{42} $x^2$ Answer: D",
    ];
    let prompter = Prompter::new(PromptSettings::default()).unwrap();
    let table = PromptTable::get();
    for dataset in table.dataset_to_builder.keys() {
        for text in texts {
            let row = if dataset == "healthbench" {
                serde_json::json!({"dataset": dataset, "prompt": [
                    {"role": "user", "content": text}, {"role": "assistant", "content": text}, {"role": "user", "content": "ok"}]})
            } else {
                serde_json::json!({"dataset": dataset, "question": text})
            };
            let row = JsonRow {
                row: row.as_object().unwrap(),
                nan_fields: vec![],
            };
            let fast = prompter.render_row(0, &row).unwrap().ids;
            assert_eq!(
                fast,
                render_row_whole(&prompter, 0, &row).unwrap(),
                "{dataset}: {text:?}"
            );
        }
    }
}
