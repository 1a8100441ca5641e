//! Writes the corpus instances of one family, as printed, to stdout: for
//! looking at what the recorder does with them by hand.
//!
//! cargo run -p tacit-eval --example dump_instances pem > pem.txt
fn main() {
    let family = std::env::args().nth(1).unwrap_or_default();
    let f = tacit_eval::secrets::formats().expect("formats");
    for i in tacit_eval::secrets::instances(&f, 7).expect("instances") {
        if i.family == family && i.channel == tacit_eval::secrets::Channel::Output {
            println!("{}\n", i.text);
        }
    }
}
