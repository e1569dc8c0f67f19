use super::sources::{self, Recorded};

#[test]
fn the_record_is_read_line_by_line_and_bad_lines_are_named() {
    let cc = "const std::string& LoadgenSha1OfFiles() {\n  static const std::string str = \
              R\"LGVG_RSLD(0123456789abcdef0123456789ABCDEF01234567 /a.cc\n\
              89abcdef0123456789abcdef0123456789abcdef /bindings/b.h)LGVG_RSLD\";\n";
    let record = sources::parse_sha1_record(cc).unwrap();
    assert_eq!(
        record,
        vec![
            Recorded {
                name: "/a.cc".into(),
                sha1: "0123456789abcdef0123456789abcdef01234567".into()
            },
            Recorded {
                name: "/bindings/b.h".into(),
                sha1: "89abcdef0123456789abcdef0123456789abcdef".into()
            },
        ]
    );
    let bad = cc.replace(" /a.cc", " a.cc");
    let err = sources::parse_sha1_record(&bad).unwrap_err();
    assert!(err.contains("line 1") && err.contains("a.cc"), "{err}");
    let err = sources::parse_sha1_record("namespace mlperf {}").unwrap_err();
    assert!(err.contains("LoadgenSha1OfFiles"), "{err}");
}

#[test]
fn a_folder_without_loadgen_h_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let err = sources::layout(dir.path()).unwrap_err();
    assert!(
        err.contains("loadgen.h") && err.contains("fetch-official-loadgen.sh"),
        "{err}"
    );
}

/// Tests on the real sources, which a build with the feature requires anyway.
#[cfg(feature = "official")]
mod with_sources {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use super::sources::{self, Layout, Recorded};

    /// The extracted sdist named by `MLPERF_LOADGEN_SRC`, which a build with the
    /// `official` feature requires anyway.
    fn sdist() -> PathBuf {
        let dir = std::env::var_os("MLPERF_LOADGEN_SRC").expect(
            "the official feature needs MLPERF_LOADGEN_SRC (scripts/fetch-official-loadgen.sh)",
        );
        PathBuf::from(dir)
    }

    fn copy_tree(from: &Path, to: &Path) {
        let status = Command::new("cp")
            .arg("-a")
            .arg(from)
            .arg(to)
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn shipped_record(root: &Path) -> Vec<Recorded> {
        let text = std::fs::read_to_string(root.join(sources::SHIPPED_VERSION_CC)).unwrap();
        sources::parse_sha1_record(&text).unwrap()
    }

    #[test]
    fn the_unmodified_sdist_matches_its_record_file_by_file() {
        let root = sdist();
        assert_eq!(sources::layout(&root).unwrap(), Layout::Sdist);
        let record = shipped_record(&root);
        assert_eq!(record.len(), 41, "the 6.0.17 record lists 41 files");
        let checked = sources::verify(&root, &record).unwrap();
        // 33 of the 41 recorded files ship in the sdist (the rest are diagrams,
        // CMake and build notes of the checkout the record was made in).
        assert_eq!(checked.len(), 33);
        // Our hash is coreutils' hash.
        let out = Command::new("sha1sum")
            .arg(root.join("loadgen.cc"))
            .output()
            .unwrap();
        let theirs = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            sources::sha1_hex(&root.join("loadgen.cc")).unwrap(),
            theirs.split_whitespace().next().unwrap()
        );
    }

    #[test]
    fn one_changed_byte_is_caught_and_the_file_named() {
        let root = sdist();
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("src");
        copy_tree(&root, &copy);
        let victim = copy.join("results.cc");
        let mut bytes = std::fs::read(&victim).unwrap();
        let at = bytes.len() / 2;
        bytes[at] ^= 0x01;
        std::fs::write(&victim, bytes).unwrap();
        let err = sources::verify(&copy, &shipped_record(&copy)).unwrap_err();
        assert!(err.contains("results.cc has SHA-1"), "{err}");
        assert_eq!(err.matches("has SHA-1").count(), 1, "{err}");
    }

    #[test]
    fn a_header_the_record_does_not_know_is_refused() {
        let root = sdist();
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("src");
        copy_tree(&root, &copy);
        std::fs::write(copy.join("extra.h"), "#define EXTRA 1\n").unwrap();
        let err = sources::verify(&copy, &shipped_record(&copy)).unwrap_err();
        assert!(err.contains("extra.h is compiled but missing"), "{err}");
    }

    #[test]
    fn mlperf_conf_h_is_escaped_as_setup_py_escapes_it() {
        let root = sdist();
        let conf = std::fs::read_to_string(root.join("mlperf.conf")).unwrap();
        let shipped = std::fs::read_to_string(root.join("mlperf_conf.h")).unwrap();
        assert_eq!(sources::mlperf_conf_header(&conf), shipped);
    }

    #[test]
    fn a_checkout_layout_is_recognised_and_its_generated_record_verifies() {
        let root = sdist();
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("loadgen");
        copy_tree(&root, &copy);
        std::fs::remove_dir_all(copy.join("generated")).unwrap();
        std::fs::remove_file(copy.join("mlperf_conf.h")).unwrap();
        assert_eq!(sources::layout(&copy).unwrap(), Layout::Checkout);
        // LoadGen's own generator, run as build.rs runs it (into another folder).
        let out = dir.path().join("out").join("version_generated.cc");
        let status = Command::new("python3")
            .arg(copy.join("version_generator.py"))
            .arg(&out)
            .arg(&copy)
            .status()
            .unwrap();
        assert!(status.success());
        let record = sources::parse_sha1_record(&std::fs::read_to_string(&out).unwrap()).unwrap();
        let checked = sources::verify(&copy, &record).unwrap();
        assert_eq!(checked.len(), record.len());
        assert!(
            !copy.join("generated").exists(),
            "nothing written into the tree"
        );
    }
}
