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
    let descriptors = out_dir.join("procedo_descriptor.bin");
    tonic_prost_build::configure()
        .file_descriptor_set_path(&descriptors)
        .include_file("procedo.rs")
        .compile_protos(&protos, &[PathBuf::from("."), include])?;
    let set: prost_types::FileDescriptorSet =
        prost::Message::decode(std::fs::read(&descriptors)?.as_slice())?;
    std::fs::write(out_dir.join("page_requests.rs"), page_requests(&set))?;

    println!("cargo:rerun-if-changed=procedo");
    Ok(())
}

/// `PageRequest` for every request message with `page_size` and
/// `page_token`: every List RPC's, without a list to keep up to date.
fn page_requests(set: &prost_types::FileDescriptorSet) -> String {
    let mut code = String::new();
    for file in &set.file {
        let package = file.package();
        if !package.starts_with("procedo.") {
            continue;
        }
        let module = package.replace('.', "::");
        for message in &file.message_type {
            let has = |name: &str| message.field.iter().any(|f| f.name() == name);
            if !(has("page_size") && has("page_token")) {
                continue;
            }
            let name = message.name();
            code.push_str(&format!(
                "impl crate::PageRequest for crate::{module}::{name} {{\n\
                 \x20   const NAME: &'static str = \"{package}.{name}\";\n\
                 \x20   fn page_size(&self) -> i32 {{ self.page_size }}\n\
                 \x20   fn page_token(&self) -> &str {{ &self.page_token }}\n\
                 \x20   fn without_page(&self) -> Self {{\n\
                 \x20       Self {{ page_size: 0, page_token: String::new(), ..self.clone() }}\n\
                 \x20   }}\n\
                 }}\n"
            ));
        }
    }
    code
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
