//! Checking files that are not in force yet, and the schemas the page's editor reads.
//!
//! `POST /api/editor/check` lays the editor's texts over the files in force (`config.flows`,
//! `config.rules`) and compiles the whole set in memory, exactly as `triage check` does (through
//! [`publish::compile`], the same path a publish takes), so the page shows the checker's errors
//! and warnings, with their "did you mean", while the editor types. Nothing is written and
//! nothing changes in force. Files are named as the rest of the editors' API names them
//! (`flows/afval.yaml`, `rules/privacy.yaml`), and so are the diagnostics.
//!
//! `GET /api/editor/schema/{name}` gives the JSON Schemas of the files
//! ([`crate::flows::model::schemas`]), for completion and hover help.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use super::publish::{self, check_changes, check_json};
use super::{require_editor, ApiResult};
use crate::channel::Channel;
use crate::service::caller::Caller;
use crate::service::error::{parse_body, ApiError};
use crate::service::state::AppState;
use crate::source::{Diagnostic, Pos};
use crate::store::FileChange;

/// The body of `POST /api/editor/check`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckRequest {
    files: Vec<FileChange>,
}

/// The files in force with `changes` laid over them, checked as `triage check` does
/// (blocking: reads the disk): `{valid, errors, warnings, diagnostics}`.
pub fn check_overlay(
    flows_dir: &Path,
    rules_dir: &Path,
    channels: &[Channel],
    changes: &[FileChange],
) -> Value {
    let in_force = match publish::read_disk(flows_dir, rules_dir) {
        Ok(files) => files,
        Err(message) => {
            let d = Diagnostic::error("flows", Pos { line: 1, column: 1 }, message);
            return check_json(false, &[d]);
        }
    };
    match publish::compile(&publish::overlay(&in_force, changes), channels) {
        Ok((_, warnings)) => check_json(true, &warnings),
        Err(diagnostics) => check_json(false, &diagnostics),
    }
}

/// `POST /api/editor/check`.
pub async fn check(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    require_editor(&caller)?;
    let req: CheckRequest = parse_body(&body)?;
    check_changes(&req.files)?;
    let (flows_dir, rules_dir) = (s.config.flows.clone(), s.config.rules.clone());
    let channels = s.channels.clone();
    let result = tokio::task::spawn_blocking(move || {
        check_overlay(&flows_dir, &rules_dir, &channels, &req.files)
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(result))
}

/// The schemas, made once.
static SCHEMAS: LazyLock<BTreeMap<&'static str, Value>> =
    LazyLock::new(crate::flows::model::schemas);

/// `GET /api/editor/schema/{name}`: `flow`, `departments`, `privacy`, `office-hours` or
/// `conversation-test`.
pub async fn schema(caller: Caller, UrlPath(name): UrlPath<String>) -> ApiResult<Json<Value>> {
    require_editor(&caller)?;
    SCHEMAS
        .get(name.as_str())
        .cloned()
        .map(Json)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "Er is geen schema `{name}`; wel: {}.",
                SCHEMAS.keys().copied().collect::<Vec<_>>().join(", ")
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diagnostics(v: &Value) -> &Vec<Value> {
        v["diagnostics"].as_array().unwrap()
    }

    #[test]
    fn the_shipped_files_check_as_triage_check_does() {
        let (flows, rules) = (Path::new("flows"), Path::new("rules"));
        let result = check_overlay(flows, rules, &[], &[]);
        assert_eq!(result["valid"], true, "{result:#}");
        let (_, warnings) = crate::flows::FlowSet::load(flows, rules).unwrap();
        assert_eq!(result["warnings"], warnings.len());
        // The same messages, only named by the API's paths.
        for (a, b) in diagnostics(&result).iter().zip(&warnings) {
            assert_eq!(a["message"], b.message);
            assert_eq!(
                (a["line"].as_u64(), a["column"].as_u64()),
                (Some(b.line as u64), Some(b.column as u64))
            );
            assert!(
                b.file.ends_with(a["file"].as_str().unwrap()),
                "{a} {}",
                b.file
            );
        }
    }

    #[test]
    fn a_misspelt_field_in_a_changed_file_is_found_where_it_is() {
        let text = std::fs::read_to_string("flows/afval.yaml").unwrap();
        let line = text
            .lines()
            .position(|l| l.trim_start().starts_with("keywords:"))
            .unwrap()
            + 1;
        let changes = [FileChange {
            path: "flows/afval.yaml".into(),
            text: Some(text.replacen("keywords:", "keywrods:", 1)),
        }];
        let result = check_overlay(Path::new("flows"), Path::new("rules"), &[], &changes);
        assert_eq!(result["valid"], false);
        let d = diagnostics(&result)
            .iter()
            .find(|d| d["message"] == "unknown field `keywrods`")
            .unwrap();
        assert_eq!(d["file"], "flows/afval.yaml");
        assert_eq!(d["line"], line);
        assert!(d["help"].as_str().unwrap().contains("keywords"));
    }

    #[test]
    fn a_deleted_flow_file_is_checked_without_it() {
        // The shipped handover file holds `handover:`; without it the set cannot load.
        let changes = [FileChange {
            path: "flows/handover.yaml".into(),
            text: None,
        }];
        let result = check_overlay(Path::new("flows"), Path::new("rules"), &[], &changes);
        assert_eq!(result["valid"], false, "{result:#}");
        assert!(result["errors"].as_u64().unwrap() >= 1);
    }
}
