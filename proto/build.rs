//! Compiles every `.proto` under `procedo/` and writes the descriptor set that
//! server reflection serves.

use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A fresh machine has no protoc; the vendored one (with the well-known
    // types) is used unless the caller points PROTOC somewhere on purpose.
    if std::env::var_os("PROTOC").is_none() {
        let protoc = protoc_bin_vendored::protoc_bin_path()?;
        // SAFETY: a build script is single-threaded; nothing reads the
        // environment concurrently.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var("PROTOC", protoc)
        };
    }
    let include = protoc_bin_vendored::include_path()?;

    let mut protos = Vec::new();
    collect_protos(Path::new("procedo"), &mut protos)?;
    protos.sort();

    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("procedo_descriptor.bin"))
        .include_file("procedo.rs")
        .compile_protos(&protos, &[PathBuf::from("."), include])?;

    println!("cargo:rerun-if-changed=procedo");
    Ok(())
}

fn collect_protos(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            out.push(path);
        }
    }
    Ok(())
}
