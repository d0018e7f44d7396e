//! A checked page of a list.

use crate::error::ApiError;

/// The last page a list may ask for (keeps offsets within what databases accept).
pub const MAX_PAGE: u64 = 1_000_000;

/// A checked page of a list: `page` from 1, `per_page` from 1 to 100.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub page: u64,
    pub per_page: u64,
}

impl Page {
    pub fn checked(
        page: Option<u64>,
        per_page: Option<u64>,
        default_per_page: u64,
    ) -> Result<Self, ApiError> {
        let per_page = per_page.unwrap_or(default_per_page);
        if !(1..=100).contains(&per_page) {
            return Err(ApiError::invalid(
                "/per_page",
                "每页条数应在 1 到 100 之间",
                "per_page must be between 1 and 100",
            ));
        }
        let page = page.unwrap_or(1);
        if !(1..=MAX_PAGE).contains(&page) {
            return Err(ApiError::invalid(
                "/page",
                format!("页码应在 1 到 {MAX_PAGE} 之间"),
                format!("page must be between 1 and {MAX_PAGE}"),
            ));
        }
        Ok(Self { page, per_page })
    }

    pub fn offset(self) -> u64 {
        (self.page - 1).saturating_mul(self.per_page)
    }
}
