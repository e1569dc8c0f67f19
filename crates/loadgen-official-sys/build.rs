//! Compiles the official LoadGen (feature `official`) from the sources at
//! `MLPERF_LOADGEN_SRC`, with the flags `setup.py` uses, after checking every
//! file against LoadGen's own SHA-1 record. Never touches the network and
//! never writes into the source tree: generated files go to `OUT_DIR`.

#[cfg(feature = "official")]
#[path = "src/sources.rs"]
mod sources;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/sources.rs");
    #[cfg(feature = "official")]
    if let Err(message) = official::build() {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

#[cfg(feature = "official")]
mod official {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use super::sources::{self, Layout};

    const HOW_TO_FETCH: &str =
        "fetch the sources with `eval \"$(scripts/fetch-official-loadgen.sh)\"` \
         (or export MLPERF_LOADGEN_SRC=<checkout>/loadgen for a clean checkout of an approved tag)";

    pub fn build() -> Result<(), String> {
        println!("cargo:rerun-if-env-changed=MLPERF_LOADGEN_SRC");
        let root = match std::env::var_os("MLPERF_LOADGEN_SRC") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => {
                return Err(format!(
                    "the `official` feature needs the official LoadGen sources in \
                     MLPERF_LOADGEN_SRC: {HOW_TO_FETCH}"
                ))
            }
        };
        let root = root
            .canonicalize()
            .map_err(|e| format!("MLPERF_LOADGEN_SRC={}: {e}; {HOW_TO_FETCH}", root.display()))?;
        let out = PathBuf::from(std::env::var("OUT_DIR").map_err(|e| format!("OUT_DIR: {e}"))?);
        let layout = sources::layout(&root)?;
        let version_cc = match layout {
            Layout::Sdist => root.join(sources::SHIPPED_VERSION_CC),
            Layout::Checkout => generate(&root, &out)?,
        };
        let text = std::fs::read_to_string(&version_cc)
            .map_err(|e| format!("reading {}: {e}", version_cc.display()))?;
        let record = sources::parse_sha1_record(&text)
            .map_err(|e| format!("{}: {e}", version_cc.display()))?;
        let checked = sources::verify(&root, &record)?;
        for file in &checked {
            println!("cargo:rerun-if-changed={}", file.display());
        }
        println!("cargo:rerun-if-changed={}", version_cc.display());
        println!("cargo:rerun-if-changed={}", root.display());

        let version = std::fs::read_to_string(root.join("VERSION.txt"))
            .map_err(|e| format!("reading {}/VERSION.txt: {e}", root.display()))?;
        let mut parts = version.trim().split('.');
        let (major, minor) = (parts.next().unwrap_or("0"), parts.next().unwrap_or("0"));

        let mut build = cc::Build::new();
        build
            .cpp(true)
            .std("c++14")
            .opt_level(3)
            .debug(false)
            .warnings(false)
            .define("NDEBUG", None)
            .define("MAJOR_VERSION", major)
            .define("MINOR_VERSION", minor)
            .flag("-fwrapv")
            .flag_if_supported("-fvisibility=hidden")
            .include(&root)
            .include(&out);
        for source in sources::LIB_SOURCES {
            build.file(root.join(source));
        }
        build.file(&version_cc);
        build.compile("mlperf_loadgen");

        println!("cargo:rustc-link-lib=pthread");
        println!("cargo:include={}", root.display());
        println!("cargo:version={}", version.trim());
        Ok(())
    }

    /// A checkout carries neither generated file: make both in `out`, the
    /// way `setup.py` does, with LoadGen's own generator (it records the
    /// checkout's git revision and status).
    fn generate(root: &Path, out: &Path) -> Result<PathBuf, String> {
        let conf = std::fs::read_to_string(root.join("mlperf.conf"))
            .map_err(|e| format!("reading {}/mlperf.conf: {e}", root.display()))?;
        let header = out.join("mlperf_conf.h");
        std::fs::write(&header, sources::mlperf_conf_header(&conf))
            .map_err(|e| format!("writing {}: {e}", header.display()))?;
        let generated = out.join("generated").join("version_generated.cc");
        let status = Command::new("python3")
            .arg(root.join("version_generator.py"))
            .arg(&generated)
            .arg(root)
            .current_dir(out)
            .status()
            .map_err(|e| {
                format!(
                    "running python3 {}/version_generator.py: {e}",
                    root.display()
                )
            })?;
        if !status.success() {
            return Err(format!(
                "python3 {}/version_generator.py failed ({status})",
                root.display()
            ));
        }
        Ok(generated)
    }
}
