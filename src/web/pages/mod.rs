//! The dashboard's pages, one file each: server-rendered HTML from the
//! askama templates in `templates/dashboard/`, no script. A handler
//! extracts, calls the domain, and renders; the only state-changing request
//! is acknowledging an alert (a POST with the CSRF token).

pub mod alerts;
pub mod deliveries;
pub mod downloads;
pub mod exchanges;
pub mod order;
pub mod overview;
mod views;
