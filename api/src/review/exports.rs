//! The ranking for the province's meeting papers: CSV (with a byte-order mark for Excel and
//! WPS) and xlsx.

use super::ranking::{Ranking, RankingEntry};
use crate::error::ApiError;

/// The column headings of the ranking's CSV and xlsx, for the province's meeting papers.
pub const RANKING_HEADERS: [&str; 11] = [
    "排名",
    "申报单位",
    "所属市州",
    "案件名称",
    "综合得分",
    "已提交评分表",
    "应提交评分表",
    "计分评分表",
    "最高最低分差",
    "标记",
    "当前状态",
];

fn ranking_cells(e: &RankingEntry) -> [String; 11] {
    let flags: Vec<&str> = e
        .summary
        .flags
        .iter()
        .map(|f| match f.as_str() {
            "dispersed" => "分差较大",
            "incomplete" => "评审未完成",
            other => other,
        })
        .collect();
    [
        e.rank.map(|r| r.to_string()).unwrap_or_default(),
        e.org_unit_name.clone(),
        e.city_name.clone(),
        e.title.clone(),
        e.score.map(|s| format!("{s:.2}")).unwrap_or_default(),
        e.summary.submitted.to_string(),
        e.summary.assigned.to_string(),
        e.summary.aggregate.counted.to_string(),
        e.summary
            .aggregate
            .spread
            .map(|s| format!("{s:.2}"))
            .unwrap_or_default(),
        flags.join("、"),
        e.state_label.clone(),
    ]
}

/// CSV with a byte-order mark, so that Excel and WPS read the Chinese correctly.
pub fn ranking_csv(r: &Ranking) -> Result<Vec<u8>, ApiError> {
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    out.write_record(RANKING_HEADERS)
        .map_err(ApiError::internal)?;
    for e in &r.items {
        out.write_record(ranking_cells(e))
            .map_err(ApiError::internal)?;
    }
    out.into_inner()
        .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))
}

/// The ranking as an xlsx workbook: a title row, the headings, one row per case.
pub fn ranking_xlsx(r: &Ranking, title: &str) -> Result<Vec<u8>, ApiError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let bold = Format::new().set_bold();
    let x = |e: rust_xlsxwriter::XlsxError| ApiError::internal(e);
    sheet.set_name(format!("{}年度排名", r.round)).map_err(x)?;
    sheet
        .write_string_with_format(
            0,
            0,
            format!("{title}({}年度,{})", r.round, r.method),
            &bold,
        )
        .map_err(x)?;
    for (c, h) in RANKING_HEADERS.iter().enumerate() {
        sheet
            .write_string_with_format(1, c as u16, *h, &bold)
            .map_err(x)?;
    }
    for (i, e) in r.items.iter().enumerate() {
        let row = i as u32 + 2;
        let cells = ranking_cells(e);
        for (c, v) in cells.iter().enumerate() {
            let numeric = matches!(c, 0 | 4 | 5 | 6 | 7 | 8);
            match (numeric, v.parse::<f64>()) {
                (true, Ok(n)) => sheet.write_number(row, c as u16, n).map_err(x)?,
                _ => sheet.write_string(row, c as u16, v).map_err(x)?,
            };
        }
    }
    sheet.set_column_width(3, 36).map_err(x)?;
    book.save_to_buffer().map_err(x)
}
