//! `--prices FILE`: price rows that override the shipped price table
//! (see docs/cost.md).

use std::path::Path;
use std::process::ExitCode;

use sysdes_cost::PriceTable;

/// Reads the price table `path` names, if any. A file that cannot be read
/// or parsed is reported on stderr (file, and line and column where the
/// parser knows them) and gives exit status 2.
pub(crate) fn read(path: Option<&Path>) -> Result<Option<PriceTable>, ExitCode> {
    let Some(path) = path else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        eprintln!(
            "error: --prices {}: cannot read the price table: {e}",
            path.display()
        );
        ExitCode::from(crate::INVALID)
    })?;
    PriceTable::parse(&text).map(Some).map_err(|e| {
        eprintln!("error: --prices {}: {e}", path.display());
        ExitCode::from(crate::INVALID)
    })
}
