//! Writing a figure's files (SVG, PNG, Vega-Lite) atomically, and keeping
//! the SVG text for the HTML report.

use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use crate::chart::Figure;
use crate::options::ImageFormat;
use crate::{PlotError, style};

/// One drawn figure, as the report shows it.
#[derive(Clone, Debug)]
pub struct DrawnPlot {
    /// The file stem, e.g. `latency_cdf`.
    pub stem: String,
    /// A one-sentence caption.
    pub caption: String,
    /// The SVG text (always rendered, for inlining).
    pub svg: String,
}

/// Collects what has been written into one output directory.
pub(crate) struct Writer {
    pub out: PathBuf,
    pub format: ImageFormat,
    pub files: Vec<PathBuf>,
    pub plots: Vec<DrawnPlot>,
}

impl Writer {
    pub(crate) fn new(out: &Path, format: ImageFormat) -> Result<Writer, PlotError> {
        std::fs::create_dir_all(out).map_err(|source| PlotError::Io {
            path: out.to_path_buf(),
            source,
        })?;
        Ok(Writer {
            out: out.to_path_buf(),
            format,
            files: Vec::new(),
            plots: Vec::new(),
        })
    }

    /// The `data.url` for `csv` as seen from the output directory.
    pub(crate) fn data_url(&self, csv: &Path) -> String {
        relative_url(&self.out, csv)
    }

    /// Renders `figure`, writes `<stem>.svg`/`.png` as asked and
    /// `<stem>.vl.json`, and keeps the SVG for the report.
    pub(crate) fn emit(
        &mut self,
        stem: &str,
        caption: &str,
        figure: &Figure,
        vega: &Value,
    ) -> Result<(), PlotError> {
        let draw_err = |message: String| PlotError::Draw {
            plot: stem.to_string(),
            message,
        };
        let svg = style::render_svg(figure).map_err(draw_err)?;
        if self.format.svg() {
            self.write(&format!("{stem}.svg"), svg.as_bytes())?;
        }
        if self.format.png() {
            let (w, h, rgb) = style::render_rgb(figure).map_err(draw_err)?;
            let path = self.out.join(format!("{stem}.png"));
            let bytes = style::encode_png(w, h, &rgb).map_err(|message| PlotError::Png {
                path: path.clone(),
                message,
            })?;
            self.write(&format!("{stem}.png"), &bytes)?;
        }
        let spec = format!("{vega:#}\n");
        self.write(&format!("{stem}.vl.json"), spec.as_bytes())?;
        self.plots.push(DrawnPlot {
            stem: stem.to_string(),
            caption: caption.to_string(),
            svg,
        });
        Ok(())
    }

    /// Writes `name` through a temporary file and a rename.
    pub(crate) fn write(&mut self, name: &str, bytes: &[u8]) -> Result<(), PlotError> {
        let path = self.out.join(name);
        let tmp = self.out.join(format!(".{name}.tmp"));
        let io = |source| PlotError::Io {
            path: path.clone(),
            source,
        };
        std::fs::write(&tmp, bytes).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        self.files.push(path);
        Ok(())
    }
}

/// The path of `target` relative to directory `from`, with `/` separators;
/// the absolute path when there is no relative one.
pub(crate) fn relative_url(from: &Path, target: &Path) -> String {
    let (Ok(from), Ok(target)) = (from.canonicalize(), target.canonicalize()) else {
        return target.to_string_lossy().replace('\\', "/");
    };
    let a: Vec<Component> = from.components().collect();
    let b: Vec<Component> = target.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return target.to_string_lossy().replace('\\', "/");
    }
    let mut parts: Vec<String> = vec!["..".to_string(); a.len() - common];
    parts.extend(
        b[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_urls_are_relative() {
        let base = std::env::temp_dir().join(format!("sysdes-plot-url-{}", std::process::id()));
        let data = base.join("data");
        let out = base.join("out").join("figs");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(data.join("x.csv"), "a\n").unwrap();
        assert_eq!(relative_url(&data, &data.join("x.csv")), "x.csv");
        assert_eq!(relative_url(&out, &data.join("x.csv")), "../../data/x.csv");
        std::fs::remove_dir_all(&base).unwrap();
    }
}
