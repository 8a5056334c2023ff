//! `pocket-dca order refresh`: what Pocket says of an order now.

use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Utc;

use super::change::IdArgs;
use super::print::print_brief;
use crate::cli::context::Context;
use crate::orders;

pub(super) async fn run(ctx: &Context<'_>, args: IdArgs) -> anyhow::Result<ExitCode> {
    let (config, mut store) = ctx.store()?;
    let id = store.resolve_order_id(&args.id)?;
    let client = ctx.pocket_client(&config)?;
    let order = orders::refresh(&client, &mut store, &id, Utc::now())
        .await
        .with_context(|| format!("while refreshing order {id}"))?;
    print_brief(&order, args.json)?;
    Ok(ExitCode::SUCCESS)
}
