//! The library: every operation on runs and SOPs that more than one edge
//! needs, written once against the [`Store`] trait. The CLI renders what
//! these return for a terminal; the server and the MCP server will render
//! the same for HTTP and for agents.
//!
//! - [`sops`]: reading and saving SOP versions, and what search finds them
//!   by.
//! - [`importing`]: importing a collection of Markdown runbooks.
//! - [`drafting`]: drafting an SOP from its recorded runs, and redrafting an
//!   SOP people have edited without losing their work.
//! - [`keeping`]: owners, review intervals, confirmed reviews, history and
//!   the difference between two versions.
//! - [`review`]: the owner's review of what runs proposed.
//! - [`status`]: the library's health and one SOP's run statistics.
//! - [`runs`]: resuming, filing a guided run's proposals, a run as
//!   evidence.
//! - [`accounts`]: accounts, API tokens and roles for the team server.
//! - [`sync`]: moving runs, SOP versions and proposals between a library
//!   and the team server, both ways, safely repeated.

pub mod accounts;
pub mod drafting;
pub mod importing;
pub mod keeping;
pub mod polish;
pub mod redaction;
pub mod review;
pub mod runs;
pub mod sink;
pub mod sops;
pub mod status;
pub mod suggest;
pub mod sync;

pub use drafting::{DraftOptions, DraftReport, Drafted, draft_into_store, draft_with};
pub use importing::{
    FileOutcome, FileReport, ImportOptions, ImportReport, SourceFile, import_files,
};
pub use sops::{closest, load_sop, read_edited, same_content, save_version, search_text};

use tacit_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A name or id that matches nothing; the message says what to do.
    #[error("{0}")]
    NotFound(String),
    /// Stored data that no longer parses.
    #[error("{0}")]
    Unreadable(String),
    /// The runs cannot become an SOP; says why.
    #[error("{0}")]
    Draft(String),
    /// A request that cannot be carried out as asked; says why.
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, LibraryError>;
