//! Patients' locks in Redis: a lease renewed while held, released by its holder's token.

use super::{RedisState, state_error};
use async_trait::async_trait;
use gateway_domain::sessions::new_token;
use gateway_domain::shared::{Held, Locks, StateError};
use mis::PatientId;
use std::time::Duration;

/// How long a patient's lock lives unless renewed: a gateway that dies holding one blocks
/// that patient for at most this long. Its holder renews it every third of it.
const LOCK_LEASE: Duration = Duration::from_secs(6);

/// Takes a lock (KEYS = lock; ARGV = token, lease ms): 1 if this token holds it now (taken,
/// or already taken by this token on an attempt whose answer was lost), else 0.
const LOCK: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
return 0
";

/// Extends a lock's lease if this token still holds it (KEYS = lock; ARGV = token, lease ms).
const RENEW: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
";

/// Releases a lock if this token still holds it (KEYS = lock; ARGV = token).
const UNLOCK: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// A patient's lock held in Redis: renewed while held, released when dropped.
struct RedisHeld {
    state: RedisState,
    key: String,
    token: String,
    renewal: tokio::task::JoinHandle<()>,
}

impl Drop for RedisHeld {
    fn drop(&mut self) {
        self.renewal.abort();
        let (state, key, token) = (self.state.clone(), self.key.clone(), self.token.clone());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                // Not released (Redis away): the lease ends it.
                let _: Result<i64, _> = redis::Script::new(UNLOCK)
                    .key(&key)
                    .arg(&token)
                    .invoke_async(&mut state.connection())
                    .await;
            });
        }
    }
}

#[async_trait]
impl Locks for RedisState {
    async fn lock(
        &self,
        clinic: &str,
        patient: &PatientId,
        wait: Duration,
    ) -> Result<Option<Held>, StateError> {
        let key = self.key(&["lock", clinic, &Self::patient_digest(patient.as_str())]);
        let token = new_token().map_err(|e| StateError(e.to_string()))?;
        let lease = LOCK_LEASE.as_millis() as u64;
        let deadline = tokio::time::Instant::now() + wait;
        let mut pause = Duration::from_millis(10);
        loop {
            let taken: i64 = redis::Script::new(LOCK)
                .key(&key)
                .arg(&token)
                .arg(lease)
                .invoke_async(&mut self.connection())
                .await
                .map_err(state_error)?;
            if taken == 1 {
                break;
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
        let renewal = {
            let (state, key, token) = (self.clone(), key.clone(), token.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(LOCK_LEASE / 3).await;
                    let renewed: Result<i64, _> = redis::Script::new(RENEW)
                        .key(&key)
                        .arg(&token)
                        .arg(lease)
                        .invoke_async(&mut state.connection())
                        .await;
                    if matches!(renewed, Ok(0)) {
                        return;
                    }
                }
            })
        };
        Ok(Some(Held::new(RedisHeld {
            state: self.clone(),
            key,
            token,
            renewal,
        })))
    }

    fn count(&self) -> Option<usize> {
        None
    }
}
