//! The opcode names and bytes the pickle interpreter and writer use are CPython's own:
//! compared, as a whole and in order, with `pickletools.opcodes` from the installed python3.

mod common;

#[test]
fn opcodes_match_cpython_pickletools() {
    let code = "import json, pickletools\n\
                print(json.dumps([[o.name, ord(o.code)] for o in pickletools.opcodes]))";
    let out = common::python(&["-c", code]);
    let theirs: Vec<(String, u8)> = serde_json::from_slice(&out).expect("pickletools as JSON");
    let ours: Vec<(String, u8)> = dataset::__private::pickle_opcodes()
        .iter()
        .map(|&(name, code)| (name.to_string(), code))
        .collect();
    assert_eq!(ours, theirs);
}
