//! Reading a GraphQL multipart upload: size limit first, then the type from the bytes.

use std::io::Read as _;

use async_graphql::{Context, Upload};

use super::context::ContextExt as _;
use crate::{
    error::{AppError, AppResult, ResultExt as _},
    storage::sniff::{self, FileKind},
};

/// The bytes of `upload` and what they are, if they are one of `allowed` and no bigger than
/// `MAX_UPLOAD_BYTES`: PAYLOAD_TOO_LARGE or BAD_USER_INPUT (on `field`) otherwise.
pub fn read_upload(
    ctx: &Context<'_>,
    field: &str,
    upload: &Upload,
    allowed: &[FileKind],
) -> AppResult<(Vec<u8>, FileKind)> {
    let max = ctx.state().config.max_upload_bytes;
    let value = upload
        .value(ctx)
        .map_err(|_| AppError::bad_input(field, "the file is missing from the request"))?;
    let size = value
        .content
        .metadata()
        .context_internal("upload metadata")?
        .len();
    if size > max {
        return Err(AppError::PayloadTooLarge(format!(
            "the file is {size} bytes; the limit is {max} bytes"
        )));
    }
    if size == 0 {
        return Err(AppError::bad_input(field, "the file is empty"));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    value
        .into_read()
        .take(max + 1)
        .read_to_end(&mut bytes)
        .context_internal("read upload")?;
    let kind = sniff::sniff(&bytes)
        .filter(|k| allowed.contains(k))
        .ok_or_else(|| {
            let names: Vec<&str> = allowed.iter().map(|k| k.extension()).collect();
            AppError::bad_input(
                field,
                format!("this file type is not accepted; send {}", names.join(", ")),
            )
        })?;
    Ok((bytes, kind))
}
