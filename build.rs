//! Embeds the numbered migrations of `sql/` into the binary, in order, so
//! that `init` works wherever the binary is copied.

use std::fmt::Write;
use std::path::Path;

fn main() {
    println!("cargo::rerun-if-changed=sql");
    let mut files: Vec<_> = std::fs::read_dir("sql")
        .expect("sql/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "sql")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.as_bytes().first().is_some_and(u8::is_ascii_digit))
        })
        .collect();
    files.sort();
    let mut out = String::from("&[\n");
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        let abs = std::fs::canonicalize(f).unwrap();
        writeln!(
            out,
            "    crate::db::init::Migration {{ name: {name:?}, sql: include_str!({:?}) }},",
            abs.display()
        )
        .unwrap();
    }
    out.push(']');
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("migrations.rs");
    std::fs::write(dest, out).unwrap();
}
