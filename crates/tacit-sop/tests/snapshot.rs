//! The Markdown of a realistic SOP, reviewed by eye and kept as a snapshot.

mod common;

use tacit_sop::{parse_markdown, render_markdown};

#[test]
fn deploy_webapp_markdown() {
    let sop = common::deploy_webapp();
    let md = render_markdown(&sop);
    insta::assert_snapshot!(md);
    assert_eq!(parse_markdown(&md).unwrap(), sop);
}
