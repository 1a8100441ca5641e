//! The SOP: a procedure a teammate can run without the person who wrote it.
//!
//! [`Sop`] is structured data. It is drafted from runs (`tacit-draft`),
//! rendered to Markdown, JSON and HTML, and parsed back from Markdown so it
//! can live in git next to the code. Every item keeps [`SourceRef`]s to the
//! run events it came from.
//!
//! Parameters appear in commands as `<<name>>`: a delimiter that collides
//! neither with shell syntax nor with the `{{ }}` of docker, kubectl or helm
//! templates.

pub mod html;
pub mod import;
pub mod markdown;
pub mod mermaid;
pub mod model;
pub mod skill;
pub mod svg;
/// Where one shell command ends and the next begins (shared with capture).
pub use tacit_core::shell;

pub use html::render_html;
pub use import::{Imported, Warning, import_markdown};
pub use markdown::{ParseError, parse_markdown, render_markdown};
pub use mermaid::render_mermaid;
pub use model::*;
pub use skill::render_skill;
