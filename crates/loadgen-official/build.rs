//! Compiles our C ABI shim (`cpp/shim.cc`) against the official LoadGen
//! headers that `loadgen-official-sys` found; a shim edit recompiles only
//! the shim, not LoadGen.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    #[cfg(feature = "official")]
    {
        println!("cargo:rerun-if-changed=cpp/shim.cc");
        let include = std::env::var("DEP_MLPERF_LOADGEN_INCLUDE")
            .expect("loadgen-official-sys exports the LoadGen include folder");
        cc::Build::new()
            .cpp(true)
            .std("c++14")
            .opt_level(3)
            .debug(false)
            .define("NDEBUG", None)
            .flag("-fwrapv")
            .include(include)
            .file("cpp/shim.cc")
            .compile("mlperf_loadgen_shim");
    }
}
