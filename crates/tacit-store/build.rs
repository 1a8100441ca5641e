// `sqlx::migrate!` embeds the migration files at compile time but does not
// tell cargo about new ones: rebuild when the folder changes.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
