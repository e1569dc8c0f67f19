//! The reference's prompt builders, as data.
//!
//! `data/reference_prompts.json` was read back from the reference
//! `harmonize_inputs.py` builders (instructions, few-shot pairs, the
//! dataset → builder table, the system settings); `data/v4_dataset_names.json`
//! adds the v4 dataset names. Both are embedded, so nothing is read at run time.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

const REFERENCE_PROMPTS: &str = include_str!("../data/reference_prompts.json");
const V4_DATASET_NAMES: &str = include_str!("../data/v4_dataset_names.json");

/// One few-shot example: a user turn and the assistant's `final` answer.
#[derive(Debug, Clone, Deserialize)]
pub struct FewShot {
    /// The example question.
    pub user: String,
    /// The example answer, sent on the `final` channel.
    pub assistant_final: String,
}

/// One prompt builder of the reference (`create_*_prompt`).
#[derive(Debug, Clone, Deserialize)]
pub struct Builder {
    /// The reference function's name, e.g. `create_gpqa_prompt`.
    pub function: String,
    /// The developer message's instructions.
    pub instructions: String,
    /// Example pairs sent between the developer message and the query.
    pub few_shot: Vec<FewShot>,
    /// False only for healthbench, whose query is a whole chat history.
    pub appends_user_query: bool,
}

/// The system message settings every builder shares.
#[derive(Debug, Clone, Deserialize)]
pub struct SystemSettings {
    /// The first line of the system message.
    pub model_identity: String,
    /// `Knowledge cutoff:`.
    pub knowledge_cutoff: String,
    /// `Current date:` unless a run overrides it.
    pub conversation_start_date: String,
    /// The channels every message must name.
    pub valid_channels: Vec<String>,
    /// Whether a channel is required (always true for the reference).
    pub channel_required: bool,
}

/// All builders and the dataset-name → builder table.
#[derive(Debug, Clone, Deserialize)]
pub struct PromptTable {
    /// The reference's `MOD_PROMPT`, already inside the builders' instructions.
    pub mod_prompt: String,
    /// Settings of the shared system message.
    pub system: SystemSettings,
    /// The builders by key (`aime`, `gpqa`, …).
    pub builders: BTreeMap<String, Builder>,
    /// The reference's names, plus the v4 names (see `data/v4_dataset_names.json`).
    pub dataset_to_builder: BTreeMap<String, String>,
    /// The builder used when a row has no `dataset` column.
    pub dataset_when_column_missing: String,
}

#[derive(Deserialize)]
struct V4Names {
    dataset_to_builder: BTreeMap<String, String>,
}

impl PromptTable {
    /// The embedded table, parsed once.
    pub fn get() -> &'static PromptTable {
        static TABLE: OnceLock<PromptTable> = OnceLock::new();
        TABLE.get_or_init(|| {
            // Both files are compiled in and checked by this crate's tests,
            // so a parse failure here is a build defect, not user input.
            let mut table: PromptTable =
                serde_json::from_str(REFERENCE_PROMPTS).expect("embedded reference_prompts.json");
            let v4: V4Names =
                serde_json::from_str(V4_DATASET_NAMES).expect("embedded v4_dataset_names.json");
            table.dataset_to_builder.extend(v4.dataset_to_builder);
            table
        })
    }

    /// The builder for a dataset name, or `None` for a name the table lacks.
    pub fn builder_for(&self, dataset: &str) -> Option<(&str, &Builder)> {
        let key = self.dataset_to_builder.get(dataset)?;
        self.builders.get(key).map(|b| (key.as_str(), b))
    }

    /// Dataset names the table knows, for error messages.
    pub fn known_datasets(&self) -> Vec<&str> {
        self.dataset_to_builder.keys().map(String::as_str).collect()
    }
}
