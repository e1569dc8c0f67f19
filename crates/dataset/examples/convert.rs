//! Converts a dataset file to another format, e.g.
//! `cargo run -p dataset --example convert -- acc_eval_ref.parquet acc.jsonl`.
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, output] = args.as_slice() else {
        eprintln!("usage: convert INPUT OUTPUT (.pkl/.pickle, .parquet, .jsonl)");
        return ExitCode::FAILURE;
    };
    let result = dataset::read_table(Path::new(input))
        .and_then(|t| dataset::write_table(Path::new(output), &t).map(|()| t));
    match result {
        Ok(t) => {
            println!("{} rows, columns: {:?}", t.num_rows(), t.column_names());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
