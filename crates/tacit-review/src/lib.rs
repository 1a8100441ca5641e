//! Review: an owner keeps an SOP true.
//!
//! - [`diff`]: what changed between two versions, section by section.
//! - [`apply`]: turns a run's proposal (evidence plus the operator's answer)
//!   into a change of the SOP.
//! - [`health`]: the library's health and each SOP's trust score, from
//!   evidence, not edit dates.
//! - [`redraft`]: a new draft of an edited SOP, merged three ways so that
//!   people's edits win and only new evidence is proposed.
//!
//! All three are pure functions; the CLI does the I/O.

pub mod apply;
pub mod diff;
pub mod health;
pub mod redraft;
