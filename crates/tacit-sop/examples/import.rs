//! Imports a Markdown runbook and prints what tacit made of it:
//! `cargo run -p tacit-sop --example import -- FILE.md [--json]`.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: import FILE.md [--json]");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(path).expect("readable UTF-8 file");
    let id = tacit_sop::import::id_from_path(std::path::Path::new(path));
    match tacit_sop::import_markdown(&text, &id) {
        Ok(got) => {
            for w in &got.warnings {
                eprintln!("{path}:{w}");
            }
            if args.iter().any(|a| a == "--json") {
                print!("{}", got.sop.to_json());
            } else {
                print!("{}", tacit_sop::render_markdown(&got.sop));
            }
        }
        Err(e) => {
            eprintln!("{path}:{e}");
            std::process::exit(1);
        }
    }
}
