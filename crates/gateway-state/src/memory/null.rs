//! The adapters of what one gateway alone has nothing to share with: no second level of cache,
//! nobody to tell of an outage, a memory that is always there.

use async_trait::async_trait;
use gateway_domain::shared::{Health, OutageHint, ReadCache, StateError};
use std::time::Duration;

/// No second level: each gateway's own cache is the only one.
#[derive(Debug)]
pub struct NoSharedCache;

#[async_trait]
impl ReadCache for NoSharedCache {
    async fn get(&self, _: &str, _: &str) -> Option<Vec<u8>> {
        None
    }

    async fn put(&self, _: &str, _: &str, _: Vec<u8>, _: Duration) {}

    async fn invalidate(&self, _: &str) {}

    fn enabled(&self) -> bool {
        false
    }
}

/// No other gateway to tell.
#[derive(Debug)]
pub struct NoHint;

#[async_trait]
impl OutageHint for NoHint {
    async fn report_down(&self, _: &str, _: Duration) {}

    async fn report_up(&self, _: &str) {}

    async fn is_down(&self, _: &str) -> bool {
        false
    }

    fn enabled(&self) -> bool {
        false
    }
}

/// Memory is always there.
#[derive(Debug)]
pub struct AlwaysHealthy;

#[async_trait]
impl Health for AlwaysHealthy {
    async fn check(&self) -> Result<(), StateError> {
        Ok(())
    }
}
